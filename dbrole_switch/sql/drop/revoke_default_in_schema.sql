-- Remove the role from an owner's default privileges in one schema.
-- Placeholders: owner identifier, schema identifier, objects object kind
--               keyword (TABLES, SEQUENCES, ROUTINES, TYPES), role identifier.
ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema}
    REVOKE ALL PRIVILEGES ON {objects} FROM {role}
