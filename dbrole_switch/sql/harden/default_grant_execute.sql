-- --harden: another owner keeps EXECUTE on routines the owner creates from now on.
-- Placeholders: owner identifier, grantee identifier.
ALTER DEFAULT PRIVILEGES FOR ROLE {owner} GRANT EXECUTE ON ROUTINES TO {grantee}
