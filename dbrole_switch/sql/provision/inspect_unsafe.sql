-- What an existing role holds in this database that a read-only role must not:
-- write privileges, grant options, CREATE, default privileges that would give it
-- any of those on future objects, and owned objects. One row per finding; owner
-- and objtype are set for default privileges only.
-- Parameters: role_oid the role's oid.
SELECT 'table' AS kind, n.nspname AS schema, count(*) AS objects,
       NULL::name AS owner, NULL::text AS objtype
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE EXISTS (
    SELECT 1 FROM aclexplode(c.relacl) AS a
    WHERE a.grantee = %(role_oid)s
      AND (a.privilege_type <> 'SELECT' OR a.is_grantable)
)
GROUP BY n.nspname
UNION ALL
SELECT 'column', n.nspname, count(DISTINCT c.oid), NULL, NULL
FROM pg_attribute AS t
JOIN pg_class AS c ON c.oid = t.attrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE EXISTS (
    SELECT 1 FROM aclexplode(t.attacl) AS a
    WHERE a.grantee = %(role_oid)s
      AND (a.privilege_type <> 'SELECT' OR a.is_grantable)
)
GROUP BY n.nspname
UNION ALL
SELECT 'schema', n.nspname, 1, NULL, NULL
FROM pg_namespace AS n
WHERE EXISTS (
    SELECT 1 FROM aclexplode(n.nspacl) AS a
    WHERE a.grantee = %(role_oid)s
      AND (a.privilege_type = 'CREATE' OR a.is_grantable)
)
UNION ALL
SELECT 'database', NULL, 1, NULL, NULL
FROM pg_database AS d
WHERE d.datname = current_database()
  AND EXISTS (
      SELECT 1 FROM aclexplode(d.datacl) AS a
      WHERE a.grantee = %(role_oid)s
        AND (a.privilege_type = 'CREATE' OR a.is_grantable)
  )
UNION ALL
-- Only SELECT on tables, sequences and large objects, USAGE on types and schemas
-- and EXECUTE on routines let nothing be changed ('n' is a schema, 'L' a large
-- object; USAGE on a sequence allows nextval).
SELECT 'default', n.nspname, 1, o.rolname, d.defaclobjtype::text
FROM pg_default_acl AS d
JOIN pg_roles AS o ON o.oid = d.defaclrole
LEFT JOIN pg_namespace AS n ON n.oid = d.defaclnamespace
WHERE EXISTS (
    SELECT 1 FROM aclexplode(d.defaclacl) AS a
    WHERE a.grantee = %(role_oid)s
      AND (
          a.is_grantable
          OR (d.defaclobjtype IN ('r', 'S', 'L') AND a.privilege_type <> 'SELECT')
          OR (d.defaclobjtype = 'n' AND a.privilege_type <> 'USAGE')
      )
)
UNION ALL
SELECT 'owned', NULL, count(*), NULL, NULL
FROM pg_shdepend AS s
WHERE s.refobjid = %(role_oid)s
  AND s.deptype = 'o'
  AND s.dbid IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
HAVING count(*) > 0
