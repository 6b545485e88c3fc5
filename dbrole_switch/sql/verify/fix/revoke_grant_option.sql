-- verify/fix/revoke_grant_option.sql: keep a privilege but not the right to grant it.
-- Placeholders: {privileges}; {kind} e.g. TABLE; {name} (Identifier);
--   {grantees} (Identifier)
REVOKE GRANT OPTION FOR {privileges} ON {kind} {name} FROM {grantees};
