-- verify/grants.sql: grants outside relations, schemas and the database that let
-- the audited role change data or pass privileges on: UPDATE on large objects,
-- grant options on routines, types, languages and large objects, and EXECUTE on
-- functions that initdb or their extension's script keeps from PUBLIC
-- (lo_import, lo_export, replication origins, dblink_connect_u, ...) granted
-- since. ACLs are expanded here because no privilege function covers large
-- objects before PostgreSQL 17, and none tells a grant made since initdb or
-- CREATE EXTENSION (pg_init_privs) from one they made.
-- Placeholders:
--   {role}        the role's name (Literal)
--   {parameters}  verify/grants_parameters.sql on PostgreSQL 15+ (which added
--                 pg_parameter_acl), else nothing
WITH target AS (
    SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname = {role}
),
acl (objtype, object, owner, entry) AS (
    SELECT 'large object', l.oid::text, l.lomowner,
           pg_catalog.aclexplode(l.lomacl)
    FROM pg_catalog.pg_largeobject_metadata AS l
    WHERE l.lomacl IS NOT NULL
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END,
           (pg_catalog.pg_identify_object(
               'pg_catalog.pg_proc'::regclass, p.oid, 0)).identity,
           p.proowner, pg_catalog.aclexplode(p.proacl)
    FROM pg_catalog.pg_proc AS p
    WHERE p.proacl IS NOT NULL
    UNION ALL
    SELECT 'type',
           (pg_catalog.pg_identify_object(
               'pg_catalog.pg_type'::regclass, y.oid, 0)).identity,
           y.typowner, pg_catalog.aclexplode(y.typacl)
    FROM pg_catalog.pg_type AS y
    WHERE y.typacl IS NOT NULL
    UNION ALL
    SELECT 'language', g.lanname::text, g.lanowner, pg_catalog.aclexplode(g.lanacl)
    FROM pg_catalog.pg_language AS g
    WHERE g.lanacl IS NOT NULL
)
SELECT 'large_object_write' AS kind, a.objtype, a.object,
       (a.entry).privilege_type::text AS privilege,
       CASE WHEN (a.entry).grantee = 0 THEN 'PUBLIC'
            ELSE pg_catalog.pg_get_userbyid((a.entry).grantee)::text END AS grantee
FROM acl AS a, target AS t
WHERE a.objtype = 'large object'
  AND a.owner <> t.oid
  AND (a.entry).privilege_type = 'UPDATE'
  AND ((a.entry).grantee = 0
       OR pg_catalog.pg_has_role(t.oid, (a.entry).grantee, 'USAGE'))
UNION ALL
SELECT 'grant_option', a.objtype, a.object, (a.entry).privilege_type::text,
       pg_catalog.pg_get_userbyid((a.entry).grantee)::text
FROM acl AS a, target AS t
WHERE (a.entry).is_grantable
  AND (a.entry).grantee = t.oid
  AND a.owner <> t.oid
UNION ALL
SELECT 'builtin_function', 'function',
       (pg_catalog.pg_identify_object(
           'pg_catalog.pg_proc'::regclass, p.oid, 0)).identity, 'EXECUTE',
       CASE WHEN e.grantee = 0 THEN 'PUBLIC'
            ELSE pg_catalog.pg_get_userbyid(e.grantee)::text END
FROM pg_catalog.pg_proc AS p
JOIN pg_catalog.pg_init_privs AS i
  ON i.objoid = p.oid AND i.classoid = 'pg_catalog.pg_proc'::regclass
 AND i.objsubid = 0
CROSS JOIN target AS t
CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) AS e
WHERE e.privilege_type = 'EXECUTE'
  AND (e.grantee = 0 OR pg_catalog.pg_has_role(t.oid, e.grantee, 'USAGE'))
  AND NOT EXISTS (
      SELECT FROM pg_catalog.aclexplode(i.initprivs) AS x
      WHERE x.grantee = e.grantee AND x.privilege_type = 'EXECUTE'
  )
{parameters}
ORDER BY 1, 2, 3, 4, 5
