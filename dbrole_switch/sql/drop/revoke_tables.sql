-- Take back every privilege (column privileges too) on the tables of a schema.
-- Placeholders: schema identifier, role identifier.
REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA {schema} FROM {role}
