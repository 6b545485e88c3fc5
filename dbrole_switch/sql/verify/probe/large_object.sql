-- verify/probe/large_object.sql: creating a large object (rolled back with the rest).
-- Placeholders: none
SELECT pg_catalog.lo_create(0)
