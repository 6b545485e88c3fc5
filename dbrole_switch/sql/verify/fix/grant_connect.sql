-- verify/fix/grant_connect.sql: let the role connect to the database.
-- Placeholders: {database} (Identifier); {role} (Identifier)
GRANT CONNECT ON DATABASE {database} TO {role};
