-- SELECT on every table, view, materialized view, partition and foreign table of a
-- schema that exists now.
-- Placeholders: schema identifier, role identifier.
GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}
