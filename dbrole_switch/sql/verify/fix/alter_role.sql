-- verify/fix/alter_role.sql: remove role attributes.
-- Placeholders: {role} (Identifier), {attributes} e.g. NOCREATEDB NOBYPASSRLS
ALTER ROLE {role} {attributes};
