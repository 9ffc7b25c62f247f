# Two commands set everything up on a fresh machine:
#   make demo   builds the demo store (six simulated months) once, materializes the pipeline, and serves
#               the API, Dagster (with its daemon) and the dashboards until Ctrl-C
#   make test   installs everything and runs the whole test suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DO_NOT_TRACK := 1
export DAGSTER_DISABLE_TELEMETRY := 1
export UV_PYTHON_DOWNLOADS := never

.PHONY: install browser demo test test-unit test-integration test-e2e lint bench clean

$(BIN)/emporium: pyproject.toml
	$(PY) -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(PY) -m uv venv --quiet --allow-existing -p $(PY) $(VENV)
	$(PY) -m uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	test -x $(BIN)/pytest && touch $(BIN)/emporium

install: $(BIN)/emporium

demo: install
	$(BIN)/emporium demo up --data-dir data

# sqlfluff's dbt templater compiles the project, which needs a warehouse path (never written).
SQLFLUFF := cd dbt_project && PATH=$(CURDIR)/$(BIN):$$PATH DBT_PROFILES_DIR=. DBT_TARGET_PATH=$(CURDIR)/.sqlfluff-target \
	EMPORIUM_WAREHOUSE=$(CURDIR)/.sqlfluff-target/warehouse.duckdb $(CURDIR)/$(BIN)/sqlfluff

# The browser tests drive Debian's Chromium (never a downloaded browser: no network at run time).
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

test: install browser
	$(BIN)/ruff check .
	$(BIN)/mypy transactional pipelines
	mkdir -p .sqlfluff-target && $(SQLFLUFF) lint models tests --processes 2
	$(BIN)/pytest

test-unit: install
	$(BIN)/pytest tests/unit

test-integration: install
	$(BIN)/pytest tests/integration

test-e2e: install
	$(BIN)/pytest tests/e2e

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy transactional pipelines
	mkdir -p .sqlfluff-target && $(SQLFLUFF) lint models tests --processes 2

bench: install
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench.order_placement
	$(BIN)/python -m bench.payments_and_events --connections 8,32,128
	$(BIN)/python -m bench.demo_build --scale 1 --months 6

clean:
	rm -rf $(VENV) data
