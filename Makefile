# LiftOff Data. `make demo` runs the main job on the embedded default; `make test` runs the suite.
# Both bootstrap what they need on a fresh machine: virtualenvs from the locks, the dbt manifest.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := $(shell sed -n 's/^uv==//p' requirements.lock)
VENV := .venv
AIRBYTE_VENV := .venv-airbyte
BIN := $(VENV)/bin
UV := $(BIN)/uv
DBT_DIR := include/dbt
MANIFEST := $(DBT_DIR)/target/manifest.json
# MinIO, the real S3 server for the archive tests: built from source by MinIO's own
# `go install`, pinned, cached per version outside the work tree (a new machine builds it).
MINIO_VERSION := v0.0.0-20260212201848-7aac2a2c5b7c
MINIO_DIR := $(HOME)/.cache/liftoff/minio-$(MINIO_VERSION)
MINIO_BIN := $(MINIO_DIR)/minio
export LIFTOFF_MINIO_BIN := $(MINIO_BIN)
# Kafka, the point-of-sale stream's broker (KRaft, one node): the Apache jars of the pinned
# version, resolved by Maven (tools/kafka/pom.xml), cached per version like MinIO; Java 17 runs it.
# The broker's version: one place, tools/kafka/pom.xml (liftoff.local.kafka reads it too).
KAFKA_VERSION := $(shell sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' tools/kafka/pom.xml)
KAFKA_LIBS := $(HOME)/.cache/liftoff/kafka-$(KAFKA_VERSION)/libs
export LIFTOFF_KAFKA_LIBS := $(KAFKA_LIBS)
DBT_SOURCES := $(shell find $(DBT_DIR)/models $(DBT_DIR)/macros $(DBT_DIR)/tests -type f 2>/dev/null) $(DBT_DIR)/dbt_project.yml

# Closed network: no tool phones home (the one list of settings: plugins/liftoff/telemetry.env).
include plugins/liftoff/telemetry.env
export $(shell sed -n 's/^\([A-Z_][A-Z0-9_]*\)=.*/\1/p' plugins/liftoff/telemetry.env)

.PHONY: install connectors demo test test-unit bench lint format lock manifest api airflow app minio compose kafka kafka-libs kafka-libs-if-java docs dbt-docs clean env

install: $(VENV)/.installed $(AIRBYTE_VENV)/.installed $(MANIFEST)
	@# Our own code's bytecode too, as the image has it (Dockerfile): with PYTHONDONTWRITEBYTECODE
	@# (set on this kind of machine) every task process compiled each of our modules it imported.
	@# Python checks each file's timestamp, so an edited file is read as it is now.
	$(BIN)/python -m compileall -q plugins dags include tools

# The platform (requirements.lock, what the image installs) and the tests' tools on top.
$(VENV)/.installed: requirements.lock requirements-dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements-dev.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

# The Airbyte CDK's pins clash with Airflow's: the connector runner gets its own virtualenv.
$(AIRBYTE_VENV)/.installed: requirements-airbyte.lock $(VENV)/.installed
	$(PYTHON) -m venv $(AIRBYTE_VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(AIRBYTE_VENV)/bin/python -r requirements-airbyte.lock
	touch $@

# The PyPI connectors include/sources.yaml names (`connector:`), each in its own virtualenv
# made by uv under LIFTOFF_CONNECTORS_DIR (default ~/.cache/liftoff/connectors), once per version.
connectors: $(VENV)/.installed
	$(BIN)/liftoff sources install

# Cosmos renders the DAG from this manifest (LoadMode.DBT_MANIFEST): no `dbt ls` at parse time.
# First the dbt files derived from include/sources.yaml (the one list of sources) are brought
# up to date (`liftoff derive`): after editing sources.yaml, `make manifest` is all it takes.
$(MANIFEST): $(VENV)/.installed $(DBT_SOURCES) include/sources.yaml $(wildcard include/contracts/*.py)
	$(BIN)/liftoff derive
	cd $(DBT_DIR) && $(abspath $(BIN))/dbt parse --profiles-dir . --quiet
manifest: $(MANIFEST)

# dbt's documentation site (every model, column, test and the lineage graph) as one static
# page, published with the MkDocs site; no warehouse needed (empty catalog).
DBT_DOCS := docs/dbt/index.html
$(DBT_DOCS): $(MANIFEST)
	cd $(DBT_DIR) && $(abspath $(BIN))/dbt docs generate --profiles-dir . --static --empty-catalog --no-compile --quiet
	mkdir -p $(dir $@) && cp $(DBT_DIR)/target/static_index.html $@
dbt-docs: $(DBT_DOCS)

docs: install $(DBT_DOCS)
	$(BIN)/mkdocs build --strict --site-dir site

# The Compose CLI, to check docker-compose.yaml without a Docker engine (`docker compose
# config`): built from the pinned source with Go (`go install` refuses compose's go.mod, whose
# exclude directives it does not allow), cached per version like MinIO.
COMPOSE_VERSION := v2.40.3
COMPOSE_DIR := $(HOME)/.cache/liftoff/compose-$(COMPOSE_VERSION)
COMPOSE_BIN := $(COMPOSE_DIR)/docker-compose
export LIFTOFF_COMPOSE_BIN := $(COMPOSE_BIN)

$(COMPOSE_BIN):
	@command -v go >/dev/null || { echo "error: Go is needed to build the Compose CLI"; exit 2; }
	rm -rf $(COMPOSE_DIR)/src && mkdir -p $(COMPOSE_DIR)
	cp -r "$$(go mod download -json github.com/docker/compose/v2@$(COMPOSE_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p')" $(COMPOSE_DIR)/src
	chmod -R u+w $(COMPOSE_DIR)/src
	cd $(COMPOSE_DIR)/src && GOFLAGS=-buildvcs=false go build -o $(COMPOSE_BIN) ./cmd
	rm -rf $(COMPOSE_DIR)/src
compose: $(COMPOSE_BIN)

$(MINIO_BIN):
	@command -v go >/dev/null || { echo "error: Go is needed to build MinIO (go install)"; exit 2; }
	mkdir -p $(MINIO_DIR)
	GOBIN=$(MINIO_DIR) GOFLAGS=-buildvcs=false go install github.com/minio/minio@$(MINIO_VERSION)
minio: $(MINIO_BIN)

$(KAFKA_LIBS)/.complete: tools/kafka/pom.xml
	@command -v mvn >/dev/null && command -v java >/dev/null || { echo "error: Java 17 and Maven are needed for Kafka"; exit 2; }
	mvn -q -f tools/kafka/pom.xml dependency:copy-dependencies -DoutputDirectory=$(KAFKA_LIBS)
	touch $@
kafka-libs: $(KAFKA_LIBS)/.complete

# make demo and make airflow include the point-of-sale stream where Java and Maven are; where
# they are not (or Maven cannot fetch), they run the other sources and say pos is skipped.
kafka-libs-if-java:
	@if command -v java >/dev/null && command -v mvn >/dev/null; then \
	  $(MAKE) --no-print-directory $(KAFKA_LIBS)/.complete || echo "the Kafka jars could not be resolved: pos will be skipped"; \
	fi

# The broker in the foreground on 127.0.0.1:59092 (LIFTOFF_KAFKA_PORT), its log under .liftoff/kafka.
kafka: install $(KAFKA_LIBS)/.complete
	$(BIN)/liftoff kafka

demo: install kafka-libs-if-java
	$(BIN)/liftoff demo

test: install $(MINIO_BIN) $(KAFKA_LIBS)/.complete $(COMPOSE_BIN)
	$(BIN)/ruff check .
	$(BIN)/pytest

test-unit: install
	$(BIN)/pytest tests/unit tests/dags

bench: install $(MINIO_BIN) $(KAFKA_LIBS)/.complete
	$(BIN)/python -m benchmarks

# The demo CRM and shop APIs in the foreground (its shop token: LIFTOFF_API_SHOP_TOKEN, else the demo's).
api: install
	$(BIN)/python -m sales_api

# Airflow as a team runs it, on the embedded default: UI and REST API on LIFTOFF_AIRFLOW_PORT
# (8080), scheduler, DAG processor, triggerer; Ctrl-C stops it all (docs/airflow-ui.md).
airflow: install kafka-libs-if-java
	$(BIN)/liftoff airflow

app: install
	$(BIN)/liftoff app

# The team deployment's .env: .env.example with every placeholder secret a strong random value,
# mode 0600 (docs/deployment.md). It never replaces an existing .env: `liftoff deployment env
# --force` does, with every secret new.
env: $(VENV)/.installed
	$(BIN)/liftoff deployment env

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile
	$(BIN)/shellcheck --external-sources .ci/run $$(git ls-files -co --exclude-standard '*.sh' '*.bash')
	$(BIN)/yamllint --strict .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock: $(VENV)/.installed
	$(UV) pip compile requirements.txt -p 3.11 --quiet -o requirements.lock
	$(UV) pip compile requirements-dev.txt -p 3.11 --quiet -c requirements.lock -o requirements-dev.lock
	$(UV) pip compile requirements-airbyte.txt -p 3.11 --quiet -o requirements-airbyte.lock

clean:
	rm -rf $(VENV) $(AIRBYTE_VENV) .liftoff $(DBT_DIR)/target $(DBT_DIR)/logs
