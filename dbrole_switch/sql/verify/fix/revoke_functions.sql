-- verify/fix/revoke_functions.sql: stop PUBLIC and the role executing functions.
-- Placeholders: {functions} comma-separated routine signatures (ROUTINE:
-- functions and procedures alike); {role} (Identifier)
REVOKE EXECUTE ON ROUTINE {functions} FROM PUBLIC, {role};
