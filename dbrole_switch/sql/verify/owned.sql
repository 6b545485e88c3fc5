-- verify/owned.sql: objects the audited role owns, in this database and among
-- shared objects (databases, tablespaces); other databases are counted.
-- Placeholders:
--   {role}  the role's name (Literal)
WITH target AS (
    SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname = {role}
),
here AS (
    SELECT d.oid FROM pg_catalog.pg_database AS d
    WHERE d.datname = pg_catalog.current_database()
),
dep AS (
    SELECT s.classid, s.objid, s.objsubid, s.dbid
    FROM pg_catalog.pg_shdepend AS s, target AS t
    WHERE s.refclassid = 'pg_catalog.pg_authid'::regclass
      AND s.refobjid = t.oid
      AND s.deptype = 'o'
)
SELECT (SELECT i.type || ' ' || i.identity
        FROM pg_catalog.pg_identify_object(dep.classid, dep.objid, dep.objsubid) AS i)
           AS object,
       NULL::text AS database, 1 AS objects
FROM dep, here
WHERE dep.dbid IN (0, here.oid)
UNION ALL
SELECT NULL, d.datname::text, count(*)::int
FROM dep
JOIN pg_catalog.pg_database AS d ON d.oid = dep.dbid
CROSS JOIN here
WHERE dep.dbid <> here.oid
GROUP BY d.datname
ORDER BY 1, 2
