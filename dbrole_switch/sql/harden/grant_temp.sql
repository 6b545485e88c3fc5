-- --harden: give TEMPORARY back to a role that needs it (an owner).
-- Placeholders: database identifier, grantee identifier.
GRANT TEMPORARY ON DATABASE {database} TO {grantee}
