-- verify/probe/create_temp.sql: needs TEMPORARY on the database.
-- Placeholders: {table} (Identifier)
CREATE TEMPORARY TABLE {table} (probe integer)
