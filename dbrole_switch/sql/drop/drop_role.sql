-- Remove the role itself; its settings go with it.
-- Placeholders: role identifier.
DROP ROLE {role}
