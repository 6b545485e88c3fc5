-- verify/fix/default_select.sql: make an owner's future relations readable.
-- Placeholders: {owner} (Identifier); {schema} (Identifier); {objects} TABLES or
--   SEQUENCES; {role} (Identifier)
ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} GRANT SELECT ON {objects} TO {role};
