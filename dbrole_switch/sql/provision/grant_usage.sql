-- Let the role look up objects in a schema.
-- Placeholders: schema identifier, role identifier.
GRANT USAGE ON SCHEMA {schema} TO {role}
