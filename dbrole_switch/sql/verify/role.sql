-- verify/role.sql: the audited role's attributes, its rights on the current
-- database, and the built-in functions that matter for a read-only role.
-- One row, or none when the role does not exist.
-- Placeholders:
--   {role}  the role's name (Literal)
WITH target AS (
    SELECT r.* FROM pg_catalog.pg_roles AS r WHERE r.rolname = {role}
),
db AS (
    SELECT d.oid, d.datname, d.datdba
    FROM pg_catalog.pg_database AS d
    WHERE d.datname = pg_catalog.current_database()
),
builtin AS (
    SELECT p.oid, p.proname
    FROM pg_catalog.pg_proc AS p
    WHERE p.pronamespace = 'pg_catalog'::regnamespace
      AND p.proname IN (
          'lo_create', 'lo_creat', 'lo_from_bytea', 'lo_import',
          'pg_logical_emit_message',
          'pg_advisory_lock', 'pg_advisory_lock_shared',
          'pg_try_advisory_lock', 'pg_try_advisory_lock_shared'
      )
)
SELECT
    t.oid AS role_oid,
    t.rolsuper, t.rolcreatedb, t.rolcreaterole, t.rolreplication,
    t.rolbypassrls, t.rolcanlogin, t.rolinherit, t.rolconnlimit, t.rolconfig,
    -- As text: psycopg cannot load 'infinity' into a datetime.
    t.rolvaliduntil::text AS valid_until,
    coalesce(t.rolvaliduntil < pg_catalog.now(), false) AS expired,
    db.datname,
    pg_catalog.pg_get_userbyid(db.datdba) AS database_owner,
    pg_catalog.has_database_privilege(t.oid, db.oid, 'CONNECT') AS db_connect,
    pg_catalog.has_database_privilege(t.oid, db.oid, 'CREATE') AS db_create,
    pg_catalog.has_database_privilege(t.oid, db.oid, 'TEMPORARY') AS db_temp,
    pg_catalog.has_database_privilege('public', db.oid, 'CREATE') AS db_create_public,
    pg_catalog.has_database_privilege('public', db.oid, 'TEMPORARY') AS db_temp_public,
    pg_catalog.has_database_privilege(
        t.oid, db.oid,
        'CONNECT WITH GRANT OPTION, CREATE WITH GRANT OPTION, '
        'TEMPORARY WITH GRANT OPTION'
    ) AS db_grant_option,
    pg_catalog.current_setting('lo_compat_privileges')::boolean
        AS lo_compat_privileges,
    (SELECT s.source FROM pg_catalog.pg_settings AS s
     WHERE s.name = 'lo_compat_privileges') AS lo_compat_source,
    ARRAY(
        SELECT b.oid::regprocedure::text FROM builtin AS b
        WHERE pg_catalog.has_function_privilege(t.oid, b.oid, 'EXECUTE')
        ORDER BY 1
    ) AS executable_builtins,
    current_user AS auditor,
    (SELECT a.rolsuper FROM pg_catalog.pg_roles AS a WHERE a.rolname = current_user)
        AS auditor_superuser
FROM target AS t, db
