-- verify/schemas.sql: the database's schemas with the audited role's rights on
-- them; rows for schemas that are audited, or where the role can do more than use.
-- Placeholders:
--   {role}     the role's name (Literal)
--   {schemas}  audited schema names, or NULL for every non-system schema (Literal)
WITH target AS (
    SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname = {role}
),
s AS (
    SELECT
        n.nspname,
        pg_catalog.pg_get_userbyid(n.nspowner) AS owner,
        n.nspowner = t.oid AS owned,
        CASE
            WHEN {schemas}::text[] IS NULL THEN
                n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
            ELSE n.nspname = ANY ({schemas}::text[])
        END AS audited,
        pg_catalog.has_schema_privilege(t.oid, n.oid, 'USAGE') AS can_use,
        pg_catalog.has_schema_privilege(t.oid, n.oid, 'CREATE') AS can_create,
        pg_catalog.has_schema_privilege('public', n.oid, 'CREATE') AS public_create,
        pg_catalog.has_schema_privilege(
            t.oid, n.oid, 'USAGE WITH GRANT OPTION, CREATE WITH GRANT OPTION'
        ) AS grant_option
    FROM pg_catalog.pg_namespace AS n, target AS t
    WHERE n.nspname NOT LIKE 'pg\_toast%'
      AND n.nspname NOT LIKE 'pg\_temp\_%'
)
SELECT s.nspname, s.owner, s.owned, s.audited, s.can_use, s.can_create,
       s.public_create, s.grant_option
FROM s
WHERE s.audited OR s.can_create OR s.grant_option OR s.owned
ORDER BY s.nspname
