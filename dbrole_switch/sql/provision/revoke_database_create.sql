-- Take back CREATE and any grant option on the database (--force).
-- Placeholders: database identifier, role identifier.
REVOKE ALL PRIVILEGES ON DATABASE {database} FROM {role}
