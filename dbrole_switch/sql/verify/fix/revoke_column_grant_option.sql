-- verify/fix/revoke_column_grant_option.sql: keep a column privilege but not the
-- right to grant it.
-- Placeholders: {privilege} e.g. SELECT; {columns} (Identifiers);
--   {name} the table (Identifier); {grantees} (Identifier)
REVOKE GRANT OPTION FOR {privilege} ({columns}) ON TABLE {name} FROM {grantees};
