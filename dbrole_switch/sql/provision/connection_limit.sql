-- Limit the role's concurrent connections (-1: no limit).
-- Placeholders: role identifier, limit integer literal.
ALTER ROLE {role} WITH CONNECTION LIMIT {limit}
