-- Set the role's password from a verifier computed on the client.
-- Placeholders: role identifier, password literal SCRAM-SHA-256 verifier.
ALTER ROLE {role} WITH PASSWORD {password}
