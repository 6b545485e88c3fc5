-- verify/probe/advisory_lock.sql: a transaction-level advisory lock, released
-- by the rollback.
-- Placeholders: {key} (Literal)
SELECT pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext({key}))
