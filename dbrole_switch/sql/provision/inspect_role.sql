-- The role's attributes, its settings (everywhere, and in this database only, which
-- take precedence) and memberships. No row: no such role.
-- Parameters: role the role name.
SELECT r.oid,
       r.rolsuper AS superuser,
       r.rolcreaterole AS createrole,
       r.rolcreatedb AS createdb,
       r.rolreplication AS replication,
       r.rolbypassrls AS bypassrls,
       r.rolcanlogin AS login,
       r.rolconnlimit AS connection_limit,
       COALESCE(s.setconfig, '{}') AS settings,
       COALESCE(
           (
               SELECT d.setconfig
               FROM pg_db_role_setting AS d
               WHERE d.setrole = r.oid
                 AND d.setdatabase = (
                     SELECT oid FROM pg_database WHERE datname = current_database()
                 )
           ),
           '{}'
       ) AS database_settings,
       ARRAY(
           SELECT g.rolname
           FROM pg_auth_members AS m
           JOIN pg_roles AS g ON g.oid = m.roleid
           WHERE m.member = r.oid
           ORDER BY g.rolname
       ) AS member_of
FROM pg_roles AS r
LEFT JOIN pg_db_role_setting AS s ON s.setrole = r.oid AND s.setdatabase = 0
WHERE r.rolname = %(role)s
