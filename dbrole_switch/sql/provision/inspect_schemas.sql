-- Every schema that is not a system schema, with the role's and PUBLIC's rights.
-- Parameters: role_oid the role's oid (NULL for a new role).
SELECT n.oid,
       n.nspname AS name,
       o.rolname AS owner,
       pg_has_role(current_user, n.nspowner, 'USAGE') AS admin_acts_for_owner,
       EXISTS (
           SELECT 1
           FROM aclexplode(COALESCE(n.nspacl, acldefault('n', n.nspowner))) AS a
           WHERE a.grantee = %(role_oid)s AND a.privilege_type = 'USAGE'
       ) AS role_usage,
       EXISTS (
           SELECT 1
           FROM aclexplode(COALESCE(n.nspacl, acldefault('n', n.nspowner))) AS a
           WHERE a.grantee = 0 AND a.privilege_type = 'USAGE'
       ) AS public_usage,
       EXISTS (
           SELECT 1
           FROM aclexplode(COALESCE(n.nspacl, acldefault('n', n.nspowner))) AS a
           WHERE a.grantee = 0 AND a.privilege_type = 'CREATE'
       ) AS public_create
FROM pg_namespace AS n
JOIN pg_roles AS o ON o.oid = n.nspowner
WHERE n.nspname !~ '^pg_'
  AND n.nspname <> 'information_schema'
ORDER BY n.nspname
