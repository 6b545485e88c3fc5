-- SECURITY DEFINER routines in the chosen schemas that PUBLIC may execute, with
-- their argument types as (schema, type) pairs so they can be named with Identifier.
-- Parameters: schema_oids array of schema oids.
SELECT p.oid,
       n.nspname AS schema,
       p.proname AS name,
       o.rolname AS owner,
       pg_has_role(current_user, p.proowner, 'USAGE') AS admin_acts_for_owner,
       ARRAY(
           SELECT tn.nspname
           FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS arg(type_oid, pos)
           JOIN pg_type AS t ON t.oid = arg.type_oid
           JOIN pg_namespace AS tn ON tn.oid = t.typnamespace
           ORDER BY arg.pos
       ) AS arg_schemas,
       ARRAY(
           SELECT t.typname
           FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS arg(type_oid, pos)
           JOIN pg_type AS t ON t.oid = arg.type_oid
           ORDER BY arg.pos
       ) AS arg_types,
       ARRAY(
           SELECT pg_get_userbyid(a.grantee)
           FROM aclexplode(p.proacl) AS a
           WHERE a.grantee <> 0 AND a.privilege_type = 'EXECUTE'
       ) AS grantees
FROM pg_proc AS p
JOIN pg_namespace AS n ON n.oid = p.pronamespace
JOIN pg_roles AS o ON o.oid = p.proowner
WHERE p.prosecdef
  AND p.pronamespace = ANY(%(schema_oids)s)
  AND EXISTS (
      SELECT 1
      FROM aclexplode(COALESCE(p.proacl, acldefault('f', p.proowner))) AS a
      WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'
  )
ORDER BY n.nspname, p.proname, p.oid
