-- Let the role connect to the database.
-- Placeholders: database identifier, role identifier.
GRANT CONNECT ON DATABASE {database} TO {role}
