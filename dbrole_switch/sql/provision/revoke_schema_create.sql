-- Take back CREATE and any grant option on a schema (--force).
-- Placeholders: schema identifier, role identifier.
REVOKE ALL PRIVILEGES ON SCHEMA {schema} FROM {role}
