-- Create the read-only role: LOGIN and no other attribute.
-- Placeholders: role identifier, password literal SCRAM-SHA-256 verifier.
CREATE ROLE {role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT
    NOREPLICATION NOBYPASSRLS PASSWORD {password}
