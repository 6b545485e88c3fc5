-- verify/default_privileges.sql: for each owner of relations in the audited
-- schemas, whether objects it creates later will be readable by the audited role;
-- and default privileges that would hand the role (or PUBLIC) more than reading.
-- pg_default_acl has no privilege function, so its entries are expanded here.
-- Placeholders:
--   {role}     the role's name (Literal)
--   {schemas}  audited schema names, or NULL for every non-system schema (Literal)
WITH target AS (
    SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname = {role}
),
entry AS (
    SELECT a.defaclrole, a.defaclnamespace, a.defaclobjtype,
           e.grantee, e.privilege_type, e.is_grantable
    FROM pg_catalog.pg_default_acl AS a,
         pg_catalog.aclexplode(a.defaclacl) AS e
),
owner_schema AS (
    SELECT DISTINCT c.relowner, c.relnamespace, n.nspname, k.objtype
    FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    CROSS JOIN target AS t
    CROSS JOIN (VALUES ('r'), ('S')) AS k (objtype)
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND c.relowner <> t.oid
      AND NOT pg_catalog.pg_has_role(t.oid, c.relowner, 'MEMBER')
      AND CASE
          WHEN {schemas}::text[] IS NULL THEN
              n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
          ELSE n.nspname = ANY ({schemas}::text[])
      END
)
SELECT 'uncovered' AS kind, pg_catalog.pg_get_userbyid(o.relowner) AS owner,
       o.nspname::text AS schema, o.objtype::text AS objtype,
       NULL::text AS privilege, NULL::text AS grantee, false AS is_grantable
FROM owner_schema AS o, target AS t
WHERE NOT EXISTS (
    SELECT FROM entry AS e
    WHERE e.defaclrole = o.relowner
      AND e.defaclnamespace IN (0, o.relnamespace)
      AND e.defaclobjtype = o.objtype
      AND e.grantee IN (t.oid, 0)
      AND e.privilege_type = 'SELECT'
)
UNION ALL
SELECT 'excess', pg_catalog.pg_get_userbyid(e.defaclrole),
       CASE WHEN e.defaclnamespace = 0 THEN NULL
            ELSE (SELECT n.nspname::text FROM pg_catalog.pg_namespace AS n
                  WHERE n.oid = e.defaclnamespace) END,
       e.defaclobjtype::text, e.privilege_type::text,
       CASE WHEN e.grantee = 0 THEN 'PUBLIC' ELSE 'role' END, e.is_grantable
FROM entry AS e, target AS t
WHERE e.grantee IN (t.oid, 0)
  AND e.defaclobjtype IN ('r', 'S', 'n')
  AND (e.is_grantable
       OR e.privilege_type <> CASE e.defaclobjtype WHEN 'n' THEN 'USAGE' ELSE 'SELECT' END)
ORDER BY 1, 2, 3, 4, 5
