-- Which of the named roles exist, and whether the admin may act for each.
-- Parameters: names array of role names, set_mode 'SET' (16+) or 'MEMBER'.
SELECT r.rolname AS name,
       pg_has_role(current_user, r.oid, 'USAGE') AS admin_uses,
       pg_has_role(current_user, r.oid, %(set_mode)s) AS admin_sets
FROM pg_roles AS r
WHERE r.rolname = ANY(%(names)s)
