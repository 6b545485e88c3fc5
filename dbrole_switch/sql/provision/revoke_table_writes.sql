-- Take back every privilege but SELECT, and every grant option, on the tables of a
-- schema (--force). Column privileges go with them.
-- Placeholders: schema identifier, role identifier.
REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA {schema} FROM {role}
