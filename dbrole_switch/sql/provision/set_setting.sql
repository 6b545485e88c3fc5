-- A session default for the role in every database (the belt, timeouts).
-- Placeholders: role identifier, name setting identifier, value literal.
ALTER ROLE {role} SET {name} = {value}
