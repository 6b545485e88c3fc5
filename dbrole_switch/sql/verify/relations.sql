-- verify/relations.sql: tables, views, materialized views, foreign tables and
-- sequences the audited role can write or grant, or (in the audited schemas)
-- cannot read. One pass over pg_class; only relations with a finding come back.
-- Relations the role owns are reported by owned.sql instead.
-- Placeholders:
--   {role}               the role's name (Literal)
--   {schemas}            audited schema names, or NULL for every non-system
--                        schema (Literal)
--   {table_privileges}   the write privileges of this server version, e.g.
--                        ARRAY['INSERT', ..., 'MAINTAIN'] (Literal text[])
--   {table_write_check}  the same list as one comma-separated string (Literal)
--   {table_grant_check}  every table privilege WITH GRANT OPTION, comma-separated
--                        (Literal)
WITH target AS (
    SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname = {role}
),
rel AS MATERIALIZED (
    SELECT
        c.oid, n.nspname, c.relname, c.relkind, c.relowner, t.oid AS roleid,
        CASE
            WHEN {schemas}::text[] IS NULL THEN
                n.nspname <> 'information_schema'
            ELSE n.nspname = ANY ({schemas}::text[])
        END AS audited
    FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    CROSS JOIN target AS t
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      -- information_schema is not audited for coverage but is for writes: its
      -- tables take grants like any other. pg_catalog is left out: initdb
      -- itself lets PUBLIC UPDATE pg_settings (a session SET), and PostgreSQL
      -- refuses writes to its catalogs whatever the grants.
      AND n.nspname NOT LIKE 'pg\_%'
      AND c.relowner <> t.oid
),
column_acl AS MATERIALIZED (
    -- Column privileges live only in pg_attribute.attacl: relations without
    -- one can skip has_any_column_privilege, the costliest call per relation.
    SELECT DISTINCT a.attrelid
    FROM pg_catalog.pg_attribute AS a
    WHERE a.attacl IS NOT NULL AND a.attnum > 0
),
checked AS MATERIALIZED (
    -- Two privilege calls per relation: can it read, and can it do anything
    -- more (write or grant). The detail is only worked out for the few
    -- relations where the answer is yes.
    SELECT
        rel.*,
        CASE WHEN rel.relkind = 'S'
            THEN pg_catalog.has_sequence_privilege(rel.roleid, rel.oid, 'SELECT')
            ELSE pg_catalog.has_table_privilege(rel.roleid, rel.oid, 'SELECT')
        END AS can_read,
        CASE WHEN rel.relkind = 'S'
            THEN pg_catalog.has_sequence_privilege(
                rel.roleid, rel.oid,
                'USAGE, UPDATE, SELECT WITH GRANT OPTION, USAGE WITH GRANT OPTION, '
                'UPDATE WITH GRANT OPTION')
            ELSE pg_catalog.has_table_privilege(
                    rel.roleid, rel.oid, {table_write_check} || ', ' || {table_grant_check})
                OR (rel.oid IN (SELECT column_acl.attrelid FROM column_acl)
                    AND pg_catalog.has_any_column_privilege(
                        rel.roleid, rel.oid,
                        'INSERT, UPDATE, REFERENCES, SELECT WITH GRANT OPTION, '
                        'INSERT WITH GRANT OPTION, UPDATE WITH GRANT OPTION, '
                        'REFERENCES WITH GRANT OPTION'))
        END AS suspect
    FROM rel
),
flagged AS (
    SELECT
        checked.*,
        checked.suspect AND CASE WHEN checked.relkind = 'S'
            THEN pg_catalog.has_sequence_privilege(
                checked.roleid, checked.oid, 'USAGE, UPDATE')
            ELSE pg_catalog.has_table_privilege(
                    checked.roleid, checked.oid, {table_write_check})
                OR pg_catalog.has_any_column_privilege(
                    checked.roleid, checked.oid, 'INSERT, UPDATE, REFERENCES')
        END AS can_write,
        checked.suspect AND CASE WHEN checked.relkind = 'S'
            THEN pg_catalog.has_sequence_privilege(
                checked.roleid, checked.oid,
                'SELECT WITH GRANT OPTION, USAGE WITH GRANT OPTION, '
                'UPDATE WITH GRANT OPTION')
            ELSE pg_catalog.has_table_privilege(
                    checked.roleid, checked.oid, {table_grant_check})
                OR pg_catalog.has_any_column_privilege(
                    checked.roleid, checked.oid,
                    'SELECT WITH GRANT OPTION, INSERT WITH GRANT OPTION, '
                    'UPDATE WITH GRANT OPTION, REFERENCES WITH GRANT OPTION')
        END AS can_grant
    FROM checked
    WHERE checked.suspect OR (checked.audited AND NOT checked.can_read)
)
SELECT
    c.nspname, c.relname, c.relkind,
    pg_catalog.pg_get_userbyid(c.relowner) AS owner,
    c.audited, c.can_read, c.can_write, c.can_grant,
    ARRAY(
        SELECT p FROM pg_catalog.unnest(
            CASE WHEN c.relkind = 'S' THEN ARRAY['USAGE', 'UPDATE']
                 ELSE {table_privileges}::text[] END) AS p
        WHERE c.can_write AND CASE WHEN c.relkind = 'S'
            THEN pg_catalog.has_sequence_privilege(c.roleid, c.oid, p)
            ELSE pg_catalog.has_table_privilege(c.roleid, c.oid, p) END
    ) AS privileges,
    ARRAY(
        SELECT p FROM pg_catalog.unnest(
            CASE WHEN c.relkind = 'S' THEN ARRAY['USAGE', 'UPDATE']
                 ELSE {table_privileges}::text[] END) AS p
        WHERE c.can_write AND CASE WHEN c.relkind = 'S'
            THEN pg_catalog.has_sequence_privilege('public', c.oid, p)
            ELSE pg_catalog.has_table_privilege('public', c.oid, p) END
    ) AS public_privileges,
    ARRAY(
        SELECT DISTINCT e.privilege_type::text
        FROM pg_catalog.pg_class AS k, pg_catalog.aclexplode(k.relacl) AS e
        WHERE c.can_write AND k.oid = c.oid AND e.grantee = c.roleid
    ) AS direct_privileges,
    ARRAY(
        SELECT DISTINCT e.privilege_type::text
        FROM pg_catalog.pg_class AS k, pg_catalog.aclexplode(k.relacl) AS e
        WHERE c.can_grant AND k.oid = c.oid AND e.grantee = c.roleid
          AND e.is_grantable
    ) AS direct_grantable,
    ARRAY(
        SELECT DISTINCT e.privilege_type::text || ':' || a.attname
        FROM pg_catalog.pg_attribute AS a, pg_catalog.aclexplode(a.attacl) AS e
        WHERE c.can_grant AND a.attrelid = c.oid AND a.attnum > 0
          AND NOT a.attisdropped AND e.grantee = c.roleid AND e.is_grantable
    ) AS direct_column_grantable,  -- 'PRIVILEGE:column name'
    ARRAY(
        SELECT p || ':' || a.attname
        FROM pg_catalog.unnest(ARRAY['INSERT', 'UPDATE', 'REFERENCES']) AS p,
             pg_catalog.pg_attribute AS a
        WHERE c.can_write AND c.relkind <> 'S'
          AND a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
          AND NOT pg_catalog.has_table_privilege(c.roleid, c.oid, p)
          AND pg_catalog.has_column_privilege(c.roleid, c.oid, a.attnum, p)
        ORDER BY p, a.attnum
    ) AS column_privileges,  -- 'PRIVILEGE:column name'
    ARRAY(
        SELECT p FROM pg_catalog.unnest(
            CASE WHEN c.relkind = 'S' THEN ARRAY['SELECT', 'USAGE', 'UPDATE']
                 ELSE ARRAY['SELECT'] || {table_privileges}::text[] END) AS p
        WHERE c.can_grant AND CASE WHEN c.relkind = 'S'
            THEN pg_catalog.has_sequence_privilege(
                c.roleid, c.oid, p || ' WITH GRANT OPTION')
            WHEN p IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
            THEN pg_catalog.has_any_column_privilege(
                c.roleid, c.oid, p || ' WITH GRANT OPTION')
            ELSE pg_catalog.has_table_privilege(
                c.roleid, c.oid, p || ' WITH GRANT OPTION') END
    ) AS grantable,
    ARRAY(
        -- pg_has_role rather than pg_auth_members, which some services hide.
        SELECT g.rolname::text
        FROM pg_catalog.pg_roles AS g
        WHERE NOT c.can_read AND g.oid <> c.relowner AND g.oid >= 16384
          AND pg_catalog.pg_has_role(c.relowner, g.oid, 'MEMBER')
        ORDER BY 1
    ) AS owner_member_of
FROM flagged AS c
WHERE c.can_write OR c.can_grant OR (c.audited AND NOT c.can_read)
ORDER BY c.nspname, c.relname
