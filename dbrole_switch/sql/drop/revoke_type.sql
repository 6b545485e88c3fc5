-- Take back USAGE on a type or domain.
-- Placeholders: type qualified identifier, role identifier.
REVOKE ALL PRIVILEGES ON TYPE {type} FROM {role}
