-- Take back USAGE and CREATE on a schema.
-- Placeholders: schema identifier, role identifier.
REVOKE ALL PRIVILEGES ON SCHEMA {schema} FROM {role}
