#!/usr/bin/env bash
# The warehouse owner (DB_USER_PROD, DB_PASS_PROD), made by the postgres image's superuser
# (POSTGRES_USER) at the first start of an empty data directory: docker-compose.yaml mounts
# this file in /docker-entrypoint-initdb.d/ and init-owner.sql beside it. The entrypoint
# runs it (executable) or sources it: no `exit`, no shell option left set.
# psql reads the login from the environment (init-owner.sql, \getenv): the password is on
# no command line, and the server logs no statement of that session.
liftoff_init_owner() {
    local sql="${LIFTOFF_INIT_OWNER_SQL:-/liftoff/warehouse/init-owner.sql}"
    if [[ -z "${DB_USER_PROD:-}" || -z "${DB_PASS_PROD:-}" ]]; then
        echo "init-owner: set DB_USER_PROD and DB_PASS_PROD (the warehouse owner's login)" >&2
        return 1
    fi
    if [[ "${DB_USER_PROD}" == "${POSTGRES_USER:-postgres}" ]]; then
        echo "init-owner: DB_USER_PROD must not be the superuser (${POSTGRES_USER:-postgres})" >&2
        return 1
    fi
    psql --no-psqlrc --no-password -v ON_ERROR_STOP=1 \
        --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
        -v database="${POSTGRES_DB:-postgres}" -f "${sql}"
}
liftoff_init_owner
