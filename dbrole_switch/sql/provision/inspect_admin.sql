-- Facts about the connecting (admin) role, the database and the server.
-- Parameters: none.
SELECT current_user AS admin,
       a.rolsuper AS superuser,
       a.rolcreaterole AS createrole,
       current_database() AS database,
       o.rolname AS database_owner,
       pg_has_role(current_user, d.datdba, 'USAGE') AS acts_for_database_owner,
       current_setting('server_version_num')::int AS server_version
FROM pg_roles AS a
CROSS JOIN pg_database AS d
JOIN pg_roles AS o ON o.oid = d.datdba
WHERE a.rolname = current_user
  AND d.datname = current_database()
