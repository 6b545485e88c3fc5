-- verify/fix/revoke_functions.sql: stop PUBLIC and the role executing functions.
-- Placeholders: {functions} comma-separated function signatures; {role} (Identifier)
REVOKE EXECUTE ON FUNCTION {functions} FROM PUBLIC, {role};
