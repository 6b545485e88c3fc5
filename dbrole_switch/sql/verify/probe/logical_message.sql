-- verify/probe/logical_message.sql: a transactional message, which logical
-- decoding only delivers if the transaction commits; the probe never commits.
-- Placeholders: {prefix} (Literal)
SELECT pg_catalog.pg_logical_emit_message(true, {prefix}, '')
