-- Default privileges of the given owners: one row per entry, with its grants as
-- 'grantee:PRIVILEGE' text ('' is PUBLIC).
-- Parameters: owners array of owner role names.
SELECT o.rolname AS owner,
       d.defaclnamespace AS schema_oid,
       d.defaclobjtype AS objtype,
       ARRAY(
           SELECT CASE a.grantee WHEN 0 THEN '' ELSE pg_get_userbyid(a.grantee) END
                  || ':' || a.privilege_type
           FROM aclexplode(d.defaclacl) AS a
       ) AS grants
FROM pg_default_acl AS d
JOIN pg_roles AS o ON o.oid = d.defaclrole
WHERE o.rolname = ANY(%(owners)s)
