-- Take back every privilege on the sequences of a schema (--force).
-- Placeholders: schema identifier, role identifier.
REVOKE ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}
