-- verify/fix/login.sql: let the read-only role log in.
-- Placeholders: {role} (Identifier)
ALTER ROLE {role} LOGIN;
