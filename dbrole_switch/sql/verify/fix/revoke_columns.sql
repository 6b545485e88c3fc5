-- verify/fix/revoke_columns.sql: take a column privilege away.
-- Placeholders: {privilege} e.g. UPDATE; {columns} (Identifiers);
--   {name} the table (Identifier); {grantees} PUBLIC or an Identifier
REVOKE {privilege} ({columns}) ON TABLE {name} FROM {grantees};
