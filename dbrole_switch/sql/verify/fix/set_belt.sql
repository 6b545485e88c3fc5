-- verify/fix/set_belt.sql: make read-only transactions the role's session default.
-- Placeholders: {role} (Identifier)
ALTER ROLE {role} SET default_transaction_read_only = on;
