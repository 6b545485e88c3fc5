-- verify/fix/revoke_membership.sql: end a direct membership.
-- Placeholders: {granted} (Identifier), {member} (Identifier)
REVOKE {granted} FROM {member};
