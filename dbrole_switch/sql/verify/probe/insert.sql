-- verify/probe/insert.sql: passes the INSERT privilege check, inserts no row and
-- evaluates no default (so no sequence advances).
-- Placeholders: {table} (Identifier); {columns} (Identifiers); {nulls} NULLs
INSERT INTO {table} ({columns}) SELECT {nulls} WHERE false
