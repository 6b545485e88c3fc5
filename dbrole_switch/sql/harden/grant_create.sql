-- --harden: give CREATE on a schema back to an owner that created its objects
-- there through PUBLIC (every database made before PostgreSQL 15 allows that).
-- Placeholders: schema identifier, grantee identifier.
GRANT CREATE ON SCHEMA {schema} TO {grantee}
