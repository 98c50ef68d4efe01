-- The two roles of a KIM warehouse on PostgreSQL (docs/postgres.md, "Roles").
-- Run once as a superuser (or the database owner), connected to the warehouse database:
--   psql "postgresql://postgres@db.kreis.example/kim" -f scripts/postgres_roles.sql
-- then give the roles passwords (never in this file):
--   alter role kim_pipeline password '...';  alter role kim_reader password '...';
-- kim_pipeline: the pipeline's role (KIM_WAREHOUSE_URL); creates and writes every schema.
-- kim_reader:   controllers' read-only role; sees the marts only (raw holds pseudonymised
--               person rows, staging and intermediate are not for reporting).
do $$
begin
    if not exists (select from pg_roles where rolname = 'kim_pipeline') then
        create role kim_pipeline login;
    end if;
    if not exists (select from pg_roles where rolname = 'kim_reader') then
        create role kim_reader login;
    end if;
    execute format('grant connect, create on database %I to kim_pipeline', current_database());
    execute format('grant connect on database %I to kim_reader', current_database());
end
$$;

create schema if not exists marts authorization kim_pipeline;
grant usage on schema marts to kim_reader;
grant select on all tables in schema marts to kim_reader;
-- dbt replaces a table model by a new table (create, rename): grant on future tables too.
alter default privileges for role kim_pipeline in schema marts grant select on tables to kim_reader;
