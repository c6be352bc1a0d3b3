# syntax=docker/dockerfile:1
# LiftOff Data's one image: every Airflow component (api-server, scheduler, dag-processor,
# triggerer, Celery workers), airflow-init and `liftoff bootstrap`, the entry app, the demo
# APIs and the point-of-sale simulator (docker-compose.yaml). The versions are the ones the
# tests run: tests/unit/test_compose.py checks them against requirements.txt and the Makefile.
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11
ARG GO_VERSION=1.26.8
ARG MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c

# MinIO publishes no community image any more: the same pinned source version the tests
# build (`make minio`), built here with MinIO's own `go install`.
FROM golang:${GO_VERSION}-bookworm AS minio
ARG MINIO_VERSION
RUN CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOBIN=/out go install github.com/minio/minio@${MINIO_VERSION}

# The slim image: Airflow's core only. The regular one carries about twenty providers our lock
# does not name, whose pins the lock would move under them; ours come from requirements.lock.
FROM apache/airflow:slim-${AIRFLOW_VERSION}-python${PYTHON_VERSION}
ENV LIFTOFF_ROOT=/opt/liftoff \
    LIFTOFF_CONNECTORS_DIR=/opt/liftoff/connectors \
    PIP_NO_CACHE_DIR=1 \
    AIRBYTE_OFFLINE_MODE=1
WORKDIR /opt/liftoff
# root, then the image's airflow user (50000), by number (hadolint DL3066)
USER 0
# Our folder; MinIO's data.
RUN mkdir -p /opt/liftoff /data \
    && chown airflow:0 /opt/liftoff /data
COPY --from=minio /out/minio /usr/local/bin/minio
USER 50000

# The platform's locked dependencies (no test or dev tool: those are requirements-dev.lock).
COPY --chown=airflow:0 requirements.lock requirements-airbyte.lock ./
RUN pip install -r requirements.lock
# The Airbyte CDK's pins clash with Airflow's: its own virtualenv, where the settings look for it.
RUN python -m venv .venv-airbyte && .venv-airbyte/bin/pip install -r requirements-airbyte.lock

# The project itself (editable: its include/ and dags/ stay beside the package), then the
# dbt files derived from include/sources.yaml and the dbt manifest Cosmos renders from.
COPY --chown=airflow:0 . .
# The PyPI connectors sources.yaml names, each in its own virtualenv (uv, from the lock, as
# `make connectors`): workers never install at run time. Telemetry off for the whole step
# (`dbt parse` would send its usage stats): plugins/liftoff/telemetry.env, the one list.
# Then the project group-writable, as Airflow's image makes its home: the containers run as
# any AIRFLOW_UID with group 0 (dbt's target/ and logs/, the liftoff home .liftoff/); the
# virtualenvs, only read at run time, stay as they are.
RUN set -a && . plugins/liftoff/telemetry.env && set +a \
    && pip install --no-deps -e . \
    && liftoff sources install \
    && liftoff derive \
    && dbt parse --project-dir include/dbt --profiles-dir include/dbt --quiet \
    && python -m compileall -q plugins include tools dags \
    && find /opt/liftoff \( -path /opt/liftoff/.venv-airbyte -o -path "${LIFTOFF_CONNECTORS_DIR}" \) -prune \
        -o -exec chmod g+w {} +

# Airflow finds our DAGs and plugins here; telemetry is off in docker-compose.yaml
# (env_file: plugins/liftoff/telemetry.env, the one list).
ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/liftoff/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/liftoff/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False
