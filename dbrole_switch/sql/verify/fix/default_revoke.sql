-- verify/fix/default_revoke.sql: stop default privileges from granting more than reading.
-- Placeholders: {owner} (Identifier); {scope} empty or IN SCHEMA name;
--   {privilege} e.g. INSERT; {objects} TABLES, SEQUENCES or SCHEMAS;
--   {grantees} PUBLIC or an Identifier
ALTER DEFAULT PRIVILEGES FOR ROLE {owner} {scope} REVOKE {privilege} ON {objects} FROM {grantees};
