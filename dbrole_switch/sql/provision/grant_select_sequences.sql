-- SELECT (last_value, not nextval) on every sequence of a schema that exists now.
-- Placeholders: schema identifier, role identifier.
GRANT SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}
