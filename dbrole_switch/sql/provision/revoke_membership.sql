-- Remove the role from a group role (--force).
-- Placeholders: group identifier, role identifier.
REVOKE {group} FROM {role}
