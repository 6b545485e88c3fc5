-- verify/fix/grant_select.sql: make one relation readable.
-- Placeholders: {kind} TABLE or SEQUENCE; {name} (Identifier); {role} (Identifier)
GRANT SELECT ON {kind} {name} TO {role};
