-- --harden: PUBLIC may no longer run a SECURITY DEFINER routine.
-- Placeholders: routine qualified identifier, arguments argument types.
REVOKE EXECUTE ON ROUTINE {routine}({arguments}) FROM PUBLIC
