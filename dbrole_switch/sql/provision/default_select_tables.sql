-- SELECT on tables the owner creates in the schema from now on.
-- Placeholders: owner identifier, schema identifier, role identifier.
ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema}
    GRANT SELECT ON TABLES TO {role}
