-- verify/fix/revoke.sql: take privileges on one object away.
-- Placeholders: {privileges} e.g. INSERT, UPDATE; {kind} e.g. TABLE, SCHEMA;
--   {name} (Identifier); {grantees} e.g. PUBLIC or an Identifier
REVOKE {privileges} ON {kind} {name} FROM {grantees};
