-- verify/fix/connection_limit.sql: let the role open connections again.
-- Placeholders: {role} (Identifier)
ALTER ROLE {role} CONNECTION LIMIT -1;
