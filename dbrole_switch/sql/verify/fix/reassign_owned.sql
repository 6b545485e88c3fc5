-- verify/fix/reassign_owned.sql: hand what the read-only role owns to another role.
-- Placeholders: {role} (Identifier), {owner} (Identifier)
REASSIGN OWNED BY {role} TO {owner};
