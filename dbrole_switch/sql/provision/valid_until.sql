-- Expire the role's password at a point in time.
-- Placeholders: role identifier, valid_until timestamp literal.
ALTER ROLE {role} WITH VALID UNTIL {valid_until}
