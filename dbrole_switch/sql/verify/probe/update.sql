-- verify/probe/update.sql: passes the UPDATE privilege check, touches no row.
-- Placeholders: {table} (Identifier); {columns} (Identifiers); {defaults} DEFAULTs
UPDATE {table} SET ({columns}) = ROW ({defaults}) WHERE false
