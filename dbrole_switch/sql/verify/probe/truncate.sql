-- verify/probe/truncate.sql: empties the table inside the probe's transaction,
-- which is always rolled back.
-- Placeholders: {table} (Identifier)
TRUNCATE {table}
