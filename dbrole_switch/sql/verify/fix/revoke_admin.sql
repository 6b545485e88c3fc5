-- verify/fix/revoke_admin.sql: keep a membership but not the right to grant it.
-- Placeholders: {granted} (Identifier), {member} (Identifier)
REVOKE ADMIN OPTION FOR {granted} FROM {member};
