-- Tables (of every kind) and sequences per schema and owner, and how many of them
-- the role cannot SELECT through an explicit grant yet. One row per schema and owner,
-- whatever the number of tables.
-- Parameters: role_oid the role's oid (NULL for a new role),
--             schema_oids array of schema oids.
SELECT c.relnamespace AS schema_oid,
       o.rolname AS owner,
       pg_has_role(current_user, c.relowner, 'USAGE') AS admin_acts_for_owner,
       count(*) FILTER (WHERE c.relkind <> 'S') AS tables,
       count(*) FILTER (WHERE c.relkind = 'S') AS sequences,
       count(*) FILTER (WHERE c.relkind <> 'S' AND NOT c.readable) AS tables_missing,
       count(*) FILTER (WHERE c.relkind = 'S' AND NOT c.readable) AS sequences_missing
FROM (
    SELECT k.relnamespace,
           k.relowner,
           k.relkind,
           EXISTS (
               SELECT 1
               FROM aclexplode(k.relacl) AS a
               WHERE a.grantee = %(role_oid)s AND a.privilege_type = 'SELECT'
           ) AS readable
    FROM pg_class AS k
    WHERE k.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND k.relnamespace = ANY(%(schema_oids)s)
) AS c
JOIN pg_roles AS o ON o.oid = c.relowner
GROUP BY c.relnamespace, o.rolname, c.relowner
ORDER BY o.rolname
