-- verify/fix/grant_usage.sql: let the role look into a schema.
-- Placeholders: {schema} (Identifier); {role} (Identifier)
GRANT USAGE ON SCHEMA {schema} TO {role};
