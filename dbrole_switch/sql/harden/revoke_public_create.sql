-- --harden: nobody but the owner and explicit grantees may create in the schema
-- (the default for public before PostgreSQL 15 let everyone).
-- Placeholders: schema identifier.
REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC
