-- verify/fix/transfer_owner.sql: give a relation to the role default privileges cover.
-- Placeholders: {kind} e.g. TABLE; {name} (Identifier); {owner} (Identifier)
ALTER {kind} {name} OWNER TO {owner};
