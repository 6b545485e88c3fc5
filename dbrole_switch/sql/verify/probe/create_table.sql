-- verify/probe/create_table.sql: needs CREATE on the schema.
-- Placeholders: {table} (Identifier)
CREATE TABLE {table} (probe integer)
