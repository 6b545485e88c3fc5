-- --harden: give EXECUTE on a SECURITY DEFINER routine back to a role that needs it.
-- Placeholders: routine qualified identifier, arguments argument types,
--               grantee identifier.
GRANT EXECUTE ON ROUTINE {routine}({arguments}) TO {grantee}
