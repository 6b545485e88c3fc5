-- verify/fix/revoke_other.sql: take a privilege on a large object, type, language,
-- routine or parameter away, or only the right to grant it.
-- Placeholders: {option} empty or GRANT OPTION FOR; {privilege} e.g. UPDATE;
--   {kind} e.g. LARGE OBJECT; {name} an oid, a signature or an Identifier;
--   {grantees} PUBLIC or Identifiers
REVOKE {option}{privilege} ON {kind} {name} FROM {grantees};
