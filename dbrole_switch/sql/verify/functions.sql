-- verify/functions.sql: SECURITY DEFINER functions the audited role can execute
-- whose owner can change data, with the reason the owner can.
-- Placeholders:
--   {role}  the role's name (Literal)
WITH target AS (
    SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname = {role}
),
definer AS MATERIALIZED (
    SELECT p.oid, p.proowner, t.oid AS roleid
    FROM pg_catalog.pg_proc AS p
    JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
    CROSS JOIN target AS t
    WHERE p.prosecdef
      AND n.nspname <> 'information_schema'
      AND n.nspname NOT LIKE 'pg\_toast%'
      AND p.proowner <> t.oid
),
owners AS (
    SELECT DISTINCT d.proowner FROM definer AS d
),
writer AS MATERIALIZED (
    SELECT
        o.proowner,
        CASE
            WHEN r.rolsuper THEN 'is a superuser'
            WHEN r.rolcreaterole THEN 'can create and alter roles (CREATEROLE)'
            WHEN r.rolcreatedb THEN 'can create databases (CREATEDB)'
            WHEN EXISTS (
                SELECT FROM pg_catalog.pg_class AS c
                WHERE c.relowner = o.proowner
                  AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
            ) THEN 'owns tables'
            WHEN EXISTS (
                -- SET ROLE is refused inside SECURITY DEFINER functions, so
                -- only inherited (USAGE) membership counts.
                SELECT FROM pg_catalog.pg_roles AS g
                WHERE g.rolname IN ('pg_write_all_data', 'pg_write_server_files',
                                    'pg_execute_server_program', 'pg_maintain')
                  AND pg_catalog.pg_has_role(o.proowner, g.oid, 'USAGE')
            ) THEN 'is a member of a predefined role that writes'
            WHEN EXISTS (
                SELECT FROM pg_catalog.pg_class AS c
                WHERE c.relkind IN ('r', 'p', 'v', 'f', 'S')
                  AND CASE WHEN c.relkind = 'S'
                      THEN pg_catalog.has_sequence_privilege(
                          o.proowner, c.oid, 'USAGE, UPDATE')
                      ELSE pg_catalog.has_table_privilege(
                          o.proowner, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
                  END
            ) THEN 'can write tables'
            WHEN EXISTS (
                -- Column grants live only in attacl: check just those relations.
                SELECT FROM pg_catalog.pg_attribute AS a
                WHERE a.attacl IS NOT NULL AND a.attnum > 0
                  AND pg_catalog.has_column_privilege(
                      o.proowner, a.attrelid, a.attnum, 'INSERT, UPDATE')
            ) THEN 'can write table columns'
            WHEN pg_catalog.has_database_privilege(
                o.proowner, pg_catalog.current_database(), 'CREATE')
                OR EXISTS (
                    SELECT FROM pg_catalog.pg_namespace AS n
                    WHERE pg_catalog.has_schema_privilege(o.proowner, n.oid, 'CREATE')
                ) THEN 'can create objects'
            WHEN EXISTS (
                SELECT FROM pg_catalog.pg_largeobject_metadata AS l
                WHERE l.lomowner = o.proowner
                   OR EXISTS (
                       SELECT FROM pg_catalog.aclexplode(l.lomacl) AS e
                       WHERE e.privilege_type = 'UPDATE'
                         AND e.grantee IN (0, o.proowner))
            ) THEN 'can change large objects'
        END AS why
    FROM owners AS o
    JOIN pg_catalog.pg_roles AS r ON r.oid = o.proowner
)
SELECT
    -- Schema-qualified whatever the auditor's search_path, so the fix is exact.
    (pg_catalog.pg_identify_object(
        'pg_catalog.pg_proc'::regclass, d.oid, 0)).identity AS signature,
    pg_catalog.pg_get_userbyid(d.proowner) AS owner,
    w.why,
    pg_catalog.has_function_privilege('public', d.oid, 'EXECUTE') AS via_public,
    pg_catalog.has_function_privilege(
        d.roleid, d.oid, 'EXECUTE WITH GRANT OPTION') AS grant_option
FROM definer AS d
JOIN writer AS w ON w.proowner = d.proowner
WHERE w.why IS NOT NULL
  AND pg_catalog.has_function_privilege(d.roleid, d.oid, 'EXECUTE')
ORDER BY 1
