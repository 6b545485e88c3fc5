-- verify/fix/set_lock_timeout.sql: keep the role's sessions from waiting on or
-- holding locks for long.
-- Placeholders: {role} (Identifier)
ALTER ROLE {role} SET lock_timeout = '5s';
ALTER ROLE {role} SET idle_in_transaction_session_timeout = '5min';
