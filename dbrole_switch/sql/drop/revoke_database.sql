-- Take back CONNECT, CREATE and TEMPORARY on the database.
-- Placeholders: database identifier, role identifier.
REVOKE ALL PRIVILEGES ON DATABASE {database} FROM {role}
