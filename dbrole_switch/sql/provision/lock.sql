-- Serialise dbrole-switch runs on this database until the transaction ends.
-- Placeholders: key a bigint literal.
SELECT pg_advisory_xact_lock({key})
