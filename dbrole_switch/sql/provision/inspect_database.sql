-- The role's and PUBLIC's rights on the current database.
-- Parameters: role_oid the role's oid (NULL for a new role).
SELECT EXISTS (
           SELECT 1 FROM aclexplode(COALESCE(d.datacl, acldefault('d', d.datdba))) AS a
           WHERE a.grantee = %(role_oid)s AND a.privilege_type = 'CONNECT'
       ) AS role_connect,
       EXISTS (
           SELECT 1 FROM aclexplode(COALESCE(d.datacl, acldefault('d', d.datdba))) AS a
           WHERE a.grantee = 0 AND a.privilege_type = 'TEMPORARY'
       ) AS public_temp,
       ARRAY(
           SELECT pg_get_userbyid(a.grantee)
           FROM aclexplode(COALESCE(d.datacl, acldefault('d', d.datdba))) AS a
           WHERE a.grantee <> 0 AND a.privilege_type = 'TEMPORARY'
       ) AS temp_grantees
FROM pg_database AS d
WHERE d.datname = current_database()
