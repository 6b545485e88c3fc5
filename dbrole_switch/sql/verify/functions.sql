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
            WHEN EXISTS (
                SELECT FROM pg_catalog.pg_class AS c
                WHERE c.relowner = o.proowner AND c.relkind IN ('r', 'p', 'm', 'S')
            ) THEN 'owns tables'
            WHEN pg_catalog.pg_has_role(o.proowner, 'pg_write_all_data', 'USAGE')
                THEN 'is a member of pg_write_all_data'
            WHEN EXISTS (
                SELECT FROM pg_catalog.pg_class AS c
                WHERE c.relkind IN ('r', 'p', 'f')
                  AND pg_catalog.has_table_privilege(
                      o.proowner, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
            ) THEN 'can write tables'
            WHEN EXISTS (
                SELECT FROM pg_catalog.pg_namespace AS n
                WHERE pg_catalog.has_schema_privilege(o.proowner, n.oid, 'CREATE')
            ) THEN 'can create objects'
        END AS why
    FROM owners AS o
    JOIN pg_catalog.pg_roles AS r ON r.oid = o.proowner
)
SELECT
    d.oid::regprocedure::text AS signature,
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
