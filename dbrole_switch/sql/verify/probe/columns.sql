-- verify/probe/columns.sql: tables to try writing to, with the columns an INSERT
-- can name (not generated, not GENERATED ALWAYS identity) and all columns.
-- Placeholders: {schemas} schema names (Literal text[])
SELECT n.nspname, c.relname,
       ARRAY(
           SELECT a.attname::text FROM pg_catalog.pg_attribute AS a
           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             AND a.attgenerated = '' AND a.attidentity <> 'a'
           ORDER BY a.attnum
       ) AS insertable,
       ARRAY(
           SELECT a.attname::text FROM pg_catalog.pg_attribute AS a
           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           ORDER BY a.attnum
       ) AS updatable
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname = ANY ({schemas}::text[])
ORDER BY n.nspname, c.relname
