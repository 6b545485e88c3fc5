-- verify/probe/delete.sql: passes the DELETE privilege check, touches no row.
-- Placeholders: {table} (Identifier)
DELETE FROM {table} WHERE false
