-- Remove a setting the role has in this database only: it would override the same
-- setting made for the role everywhere (such as the read-only default).
-- Placeholders: role identifier, database identifier, name setting identifier.
ALTER ROLE {role} IN DATABASE {database} RESET {name}
