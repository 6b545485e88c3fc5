-- Remove the role from an owner's database-wide default privileges.
-- Placeholders: owner identifier, objects object kind keyword (TABLES,
--               SEQUENCES, ROUTINES, TYPES, SCHEMAS), role identifier.
ALTER DEFAULT PRIVILEGES FOR ROLE {owner}
    REVOKE ALL PRIVILEGES ON {objects} FROM {role}
