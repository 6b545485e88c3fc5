-- verify/settings.sql: session defaults that apply to the role in this database,
-- most specific first (role in this database, role everywhere, this database).
-- Reads pg_db_role_setting, which some managed services hide from non-superusers.
-- Placeholders:
--   {role}  the role's name (Literal)
SELECT
    CASE
        WHEN s.setrole <> 0 AND s.setdatabase <> 0 THEN 'role_in_database'
        WHEN s.setrole <> 0 THEN 'role'
        ELSE 'database'
    END AS scope,
    s.setconfig
FROM pg_catalog.pg_db_role_setting AS s
WHERE (s.setrole = (SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname = {role})
       OR s.setrole = 0)
  AND s.setdatabase IN (
      0,
      (SELECT d.oid FROM pg_catalog.pg_database AS d
       WHERE d.datname = pg_catalog.current_database())
  )
  AND NOT (s.setrole = 0 AND s.setdatabase = 0)
