-- verify/grants_parameters.sql: the part of verify/grants.sql for PostgreSQL 15+:
-- superuser-only settings the audited role may SET or ALTER SYSTEM, directly,
-- through PUBLIC or through a role it belongs to (has_parameter_privilege sees
-- all three; settings without an entry in pg_parameter_acl grant nothing).
-- Placeholders:
--   {role}  the role's name (Literal)
UNION ALL
SELECT 'parameter', 'parameter', a.parname::text, x.privilege,
       CASE WHEN EXISTS (
           SELECT FROM pg_catalog.aclexplode(a.paracl) AS e
           WHERE e.grantee = 0 AND e.privilege_type = x.privilege
       ) THEN 'PUBLIC' ELSE NULL END
FROM pg_catalog.pg_parameter_acl AS a
CROSS JOIN (VALUES ('SET'), ('ALTER SYSTEM')) AS x (privilege)
WHERE pg_catalog.has_parameter_privilege(
    (SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname = {role}),
    a.parname, x.privilege)
