-- verify/fix/drop_user_mapping.sql: remove a user mapping the role would connect through.
-- Placeholders: {user} PUBLIC or an Identifier; {server} (Identifier)
DROP USER MAPPING FOR {user} SERVER {server};
