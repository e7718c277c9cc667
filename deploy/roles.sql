-- Least-privilege roles for forecastd. Run once per database, after `forecastd migrate`, as
-- a superuser or a role with CREATEROLE that owns the forecast schema:
--
--   psql "dbname=sensors" -v daemon=forecastd -f deploy/roles.sql
--
-- Creates (if missing):
--   forecast_reader  NOLOGIN  SELECT on the sources you grant it (see the end of this file)
--   forecast_writer  NOLOGIN  reads and writes the forecast schema's rows; cannot create,
--                             alter or drop anything
--   :daemon          LOGIN    the daemon's role, member of both and nothing else
-- and gives the daemon's role no password: set one with \password or use peer/cert auth,
-- and give it to forecastd through a libpq password file (LoadCredential=pgpass:...).
\set ON_ERROR_STOP on

SELECT 'CREATE ROLE forecast_reader NOLOGIN'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'forecast_reader') \gexec
SELECT 'CREATE ROLE forecast_writer NOLOGIN'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'forecast_writer') \gexec
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE', :'daemon')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'daemon') \gexec
-- INHERIT is needed for the memberships below to give their privileges.
ALTER ROLE :"daemon" INHERIT;
GRANT forecast_reader, forecast_writer TO :"daemon";

-- The forecast schema: rows only. Tables, views, functions stay owned by the migrator.
GRANT USAGE ON SCHEMA forecast TO forecast_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA forecast TO forecast_writer;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA forecast TO forecast_writer;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA forecast TO forecast_writer;
-- Objects later migrations create (when run by the role running this script).
ALTER DEFAULT PRIVILEGES IN SCHEMA forecast GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO forecast_writer;
ALTER DEFAULT PRIVILEGES IN SCHEMA forecast GRANT USAGE, SELECT ON SEQUENCES TO forecast_writer;
ALTER DEFAULT PRIVILEGES IN SCHEMA forecast GRANT EXECUTE ON FUNCTIONS TO forecast_writer;
-- Nobody but owners creates objects in public (PostgreSQL 15's default; made explicit).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- Then grant read access to each source, e.g.:
--   GRANT USAGE ON SCHEMA plant TO forecast_reader;
--   GRANT SELECT ON plant.readings TO forecast_reader;
