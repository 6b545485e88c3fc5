-- verify/fix/lo_compat_database.sql: restore privilege checks on large objects
-- where they were switched off for this database.
-- Placeholders: {database} (Identifier)
ALTER DATABASE {database} RESET lo_compat_privileges;
