-- verify/probe/timeouts.sql: keep the probe from waiting on anyone's locks.
-- Placeholders: {lock_timeout}, {statement_timeout} (Literal)
SELECT pg_catalog.set_config('lock_timeout', {lock_timeout}, true),
       pg_catalog.set_config('statement_timeout', {statement_timeout}, true),
       pg_catalog.set_config('default_transaction_read_only', 'off', true)
