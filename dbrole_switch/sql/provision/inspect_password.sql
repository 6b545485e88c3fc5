-- The stored password verifier; readable by superusers only.
-- Parameters: role the role name.
SELECT rolpassword FROM pg_authid WHERE rolname = %(role)s
