-- Bring an existing role back to LOGIN and no other attribute.
-- Placeholders: role identifier.
ALTER ROLE {role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
    NOREPLICATION NOBYPASSRLS
