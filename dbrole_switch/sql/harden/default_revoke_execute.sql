-- --harden: routines the owner creates from now on are not executable by PUBLIC.
-- Placeholders: owner identifier.
ALTER DEFAULT PRIVILEGES FOR ROLE {owner} REVOKE EXECUTE ON ROUTINES FROM PUBLIC
