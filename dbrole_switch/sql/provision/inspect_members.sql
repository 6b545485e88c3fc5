-- Login roles that belong to an owner but are not owners themselves: objects they
-- create are their own, so default privileges naming the owner do not cover them.
-- Parameters: owners array of owner role names.
SELECT m.rolname AS member, o.rolname AS owner
FROM pg_auth_members AS am
JOIN pg_roles AS o ON o.oid = am.roleid
JOIN pg_roles AS m ON m.oid = am.member
WHERE o.rolname = ANY(%(owners)s)
  AND m.rolcanlogin
  AND NOT m.rolname = ANY(%(owners)s)
ORDER BY m.rolname, o.rolname
