-- verify/foreign.sql: foreign-data wrappers and foreign servers the audited role
-- can use, with the user mapping (its own or PUBLIC's) it would connect through.
-- dblink connects through the same servers and mappings.
-- Placeholders:
--   {role}  the role's name (Literal)
WITH target AS (
    SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname = {role}
)
SELECT 'wrapper' AS kind, w.fdwname::text AS name, NULL::text AS mapping
FROM pg_catalog.pg_foreign_data_wrapper AS w, target AS t
WHERE pg_catalog.has_foreign_data_wrapper_privilege(t.oid, w.oid, 'USAGE')
UNION ALL
SELECT 'server', s.srvname::text,
       (SELECT CASE WHEN bool_or(m.umuser = t.oid) THEN 'own' ELSE 'PUBLIC' END
        FROM pg_catalog.pg_user_mappings AS m
        WHERE m.srvid = s.oid AND m.umuser IN (t.oid, 0))
FROM pg_catalog.pg_foreign_server AS s, target AS t
WHERE pg_catalog.has_server_privilege(t.oid, s.oid, 'USAGE')
ORDER BY 1, 2
