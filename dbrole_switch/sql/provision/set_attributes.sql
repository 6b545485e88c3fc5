-- Bring an existing role back to LOGIN and no other attribute. Only the attributes
-- that change are named: naming one, even to turn it off, needs that attribute.
-- Placeholders: role identifier, attributes keywords (LOGIN, NOSUPERUSER,
--               NOCREATEDB, NOCREATEROLE, NOREPLICATION, NOBYPASSRLS).
ALTER ROLE {role} WITH {attributes}
