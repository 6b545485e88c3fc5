-- verify/fix/valid_until.sql: let the role's password be used again.
-- Placeholders: {role} (Identifier)
ALTER ROLE {role} VALID UNTIL 'infinity';
