-- The warehouse owner, made once by the postgres image's superuser at the data directory's
-- first start (init-owner.sh, from /docker-entrypoint-initdb.d/). The owner is the login
-- `liftoff bootstrap` uses (DB_USER_PROD): it owns the database DB_NAME_PROD and may create
-- roles (the pipeline, analyst, entry writer and helper roles; PostgreSQL 16+ gives it ADMIN
-- OPTION on each role it creates, and only on those), never a superuser.
--
-- psql reads the owner's login from the environment (\getenv: never on a command line) and
-- the database from -v database=…; it quotes each (:"owner" as an identifier,
-- :'owner_password' as a literal). The password reaches the server in this
-- statement's text: the session logs no statement, not even a failing one (the settings
-- below; a superuser may set them), and the server stores only its SCRAM verifier
-- (password_encryption, scram-sha-256 by default). tests/integration/test_compose_owner.py
-- runs this file as init-owner.sh does.
\set ON_ERROR_STOP on
\getenv owner DB_USER_PROD
\getenv owner_password DB_PASS_PROD
set log_statement = 'none';
set log_min_error_statement = 'panic';
set log_min_duration_statement = -1;
set log_min_duration_sample = -1;
set log_transaction_sample_rate = 0;

create role :"owner" login nosuperuser createrole nocreatedb noreplication nobypassrls
    password :'owner_password';
alter database :"database" owner to :"owner";
