-- --harden: only roles granted TEMPORARY may create temporary tables.
-- Placeholders: database identifier.
REVOKE TEMPORARY ON DATABASE {database} FROM PUBLIC
