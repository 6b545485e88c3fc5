-- Other databases in which the role still owns objects or holds privileges
-- (including privileges on those databases themselves).
-- Parameters: role_oid the role's oid.
SELECT DISTINCT d.datname AS database
FROM pg_shdepend AS s
JOIN pg_database AS d
  ON d.oid = CASE
      WHEN s.dbid = 0 AND s.classid = 'pg_database'::regclass THEN s.objid
      ELSE s.dbid
  END
WHERE s.refobjid = %(role_oid)s
  AND s.refclassid = 'pg_authid'::regclass
  AND d.datname <> current_database()
ORDER BY d.datname
