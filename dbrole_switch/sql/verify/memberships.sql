-- verify/memberships.sql: every role the audited role belongs to, directly or
-- through other roles, with the first chain found and what it confers.
-- Placeholders:
--   {role}      the role's name (Literal)
--   {set_mode}  'SET' on PostgreSQL 16+, 'MEMBER' before (where membership
--               always allowed SET ROLE) (Literal)
WITH RECURSIVE target AS (
    SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname = {role}
),
chain (granted, path) AS (
    SELECT m.roleid, ARRAY[m.roleid]
    FROM pg_catalog.pg_auth_members AS m, target AS t
    WHERE m.member = t.oid
    UNION
    SELECT m.roleid, c.path || m.roleid
    FROM pg_catalog.pg_auth_members AS m
    JOIN chain AS c ON m.member = c.granted
    WHERE m.roleid <> ALL (c.path)
),
shortest AS (
    SELECT DISTINCT ON (c.granted) c.granted, c.path
    FROM chain AS c
    ORDER BY c.granted, pg_catalog.cardinality(c.path)
)
SELECT
    g.rolname AS granted,
    ARRAY(
        SELECT pg_catalog.pg_get_userbyid(u.oid)::text
        FROM pg_catalog.unnest(s.path) WITH ORDINALITY AS u (oid, n)
        ORDER BY u.n
    ) AS path,
    pg_catalog.pg_has_role(t.oid, g.oid, 'USAGE') AS inherits,
    pg_catalog.pg_has_role(t.oid, g.oid, {set_mode}) AS can_set,
    pg_catalog.pg_has_role(t.oid, g.oid, 'MEMBER WITH ADMIN OPTION') AS admin,
    g.rolsuper,
    g.oid < 16384 AS predefined
FROM shortest AS s
JOIN pg_catalog.pg_roles AS g ON g.oid = s.granted
CROSS JOIN target AS t
ORDER BY g.rolname
