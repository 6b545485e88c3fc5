-- verify/fix/lo_compat.sql: restore privilege checks on large objects.
-- Placeholders: none
ALTER SYSTEM SET lo_compat_privileges = off;
SELECT pg_reload_conf();
