-- Take back EXECUTE on the functions and procedures of a schema.
-- Placeholders: schema identifier, role identifier.
REVOKE ALL PRIVILEGES ON ALL ROUTINES IN SCHEMA {schema} FROM {role}
