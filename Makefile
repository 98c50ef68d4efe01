# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SAMPLE := data/inbox
SCALE  ?= S

export DAGSTER_HOME ?= $(CURDIR)/.dagster
export DBT_PROFILES_DIR := $(CURDIR)/dbt
# dbt parse needs a warehouse path; the CLI overrides it with the resolved absolute path.
export KIM_WAREHOUSE ?= $(CURDIR)/warehouse/kim.duckdb

.PHONY: run test ui bench lint docs clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Reinstall when the dependency list changes; dbt parse writes the manifest Dagster loads.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Parse once, here: runs reuse this parse (partial_parse.msgpack; a warehouse other than the
# default re-parses once and keeps its own, see assets/warehouse.py). dbt checks the profile too.
dbt/target/manifest.json: $(STAMP) $(shell find dbt/models dbt/seeds dbt/macros dbt/dbt_project.yml dbt/profiles.yml -type f 2>/dev/null)
	cd dbt && ../$(BIN)/dbt parse --quiet --profiles-dir . --project-dir .

install: $(STAMP) dbt/target/manifest.json

$(SAMPLE):
	$(BIN)/kim generate --out $(SAMPLE)

run: install $(SAMPLE)
	$(BIN)/kim run --all

test: install
	$(BIN)/python -m pytest -q

ui: install
	$(BIN)/kim ui

bench: install
	$(BIN)/python -m benchmarks.run --scale $(SCALE)

lint: install
	$(BIN)/ruff check .

docs: install
	$(BIN)/kim docs

clean:
	rm -rf warehouse output .dagster dbt/target dbt/logs
