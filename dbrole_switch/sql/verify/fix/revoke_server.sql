-- verify/fix/revoke_server.sql: stop the role using a foreign server.
-- Placeholders: {kind} SERVER or DATA WRAPPER; {name} (Identifier); {role} (Identifier)
REVOKE USAGE ON FOREIGN {kind} {name} FROM PUBLIC, {role};
