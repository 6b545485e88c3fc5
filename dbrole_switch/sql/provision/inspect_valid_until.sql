-- Whether the role's VALID UNTIL already equals the requested timestamp.
-- Parameters: role the role name, valid_until the requested value (text).
SELECT r.rolvaliduntil IS NOT DISTINCT FROM %(valid_until)s::timestamptz AS same
FROM pg_roles AS r
WHERE r.rolname = %(role)s
