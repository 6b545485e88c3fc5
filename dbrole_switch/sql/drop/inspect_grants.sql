-- What the role holds in this database, grouped so that one REVOKE per schema and
-- kind takes it back (types, which have no ALL TYPES IN SCHEMA form, one by one,
-- named in the owner column). One row per finding.
-- Parameters: role_oid the role's oid.
SELECT 'tables' AS kind, n.nspname AS schema, NULL::name AS owner, count(*) AS objects
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind <> 'S'
  AND (
      EXISTS (SELECT 1 FROM aclexplode(c.relacl) AS a WHERE a.grantee = %(role_oid)s)
      OR EXISTS (
          SELECT 1
          FROM pg_attribute AS t, aclexplode(t.attacl) AS a
          WHERE t.attrelid = c.oid AND a.grantee = %(role_oid)s
      )
  )
GROUP BY n.nspname
UNION ALL
SELECT 'sequences', n.nspname, NULL, count(*)
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind = 'S'
  AND EXISTS (SELECT 1 FROM aclexplode(c.relacl) AS a WHERE a.grantee = %(role_oid)s)
GROUP BY n.nspname
UNION ALL
SELECT 'routines', n.nspname, NULL, count(*)
FROM pg_proc AS p
JOIN pg_namespace AS n ON n.oid = p.pronamespace
WHERE EXISTS (SELECT 1 FROM aclexplode(p.proacl) AS a WHERE a.grantee = %(role_oid)s)
GROUP BY n.nspname
UNION ALL
SELECT 'type', n.nspname, t.typname, 1
FROM pg_type AS t
JOIN pg_namespace AS n ON n.oid = t.typnamespace
WHERE EXISTS (SELECT 1 FROM aclexplode(t.typacl) AS a WHERE a.grantee = %(role_oid)s)
UNION ALL
SELECT 'schema', n.nspname, NULL, 1
FROM pg_namespace AS n
WHERE EXISTS (SELECT 1 FROM aclexplode(n.nspacl) AS a WHERE a.grantee = %(role_oid)s)
UNION ALL
SELECT 'database', NULL, NULL, 1
FROM pg_database AS d
WHERE d.datname = current_database()
  AND EXISTS (SELECT 1 FROM aclexplode(d.datacl) AS a WHERE a.grantee = %(role_oid)s)
UNION ALL
SELECT 'default:' || d.defaclobjtype::text, n.nspname, o.rolname, 1
FROM pg_default_acl AS d
JOIN pg_roles AS o ON o.oid = d.defaclrole
LEFT JOIN pg_namespace AS n ON n.oid = d.defaclnamespace
WHERE EXISTS (SELECT 1 FROM aclexplode(d.defaclacl) AS a WHERE a.grantee = %(role_oid)s)
UNION ALL
SELECT 'owned', NULL, NULL, count(*)
FROM pg_shdepend AS s
WHERE s.refobjid = %(role_oid)s
  AND s.deptype = 'o'
  AND s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
HAVING count(*) > 0
ORDER BY 1, 2, 3
