-- verify/probe/create_schema.sql: needs CREATE on the database.
-- Placeholders: {schema} (Identifier)
CREATE SCHEMA {schema}
