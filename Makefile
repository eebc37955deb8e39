# Upswing's shared commands. `make demo` and `make test` are the two a newcomer needs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= var/demo
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: install demo demo-reset test lint fuzz bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "needs $(PYTHON)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Set up, load the bundled demo into SQLite (first run only: later runs keep what is there), serve on
## http://$(HOST):$(PORT). A port in use is reported before anything is touched.
demo: $(STAMP)
	UPSWING_DATA_DIR=$(DEMO_DIR) $(BIN)/upswing demo run --host $(HOST) --port $(PORT)

## The same, but start from an empty demo database (everything done in the demo is lost)
demo-reset: $(STAMP)
	UPSWING_DATA_DIR=$(DEMO_DIR) $(BIN)/upswing demo run --reset --host $(HOST) --port $(PORT)

## Run every test: SQLite always, PostgreSQL when reachable (forced in CI)
test: $(STAMP)
	$(BIN)/pytest -n 2 -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

## Fuzz the whole API longer than the test suite does (100 generated requests per operation and role)
fuzz: $(STAMP)
	UPSWING_FUZZ_EXAMPLES=100 $(BIN)/pytest -n 2 -q tests/test_api_fuzz.py

bench: $(STAMP)
	$(BIN)/pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/linkage.py
	$(BIN)/python benchmarks/classify.py
	$(BIN)/python benchmarks/monitoring.py
	$(BIN)/python benchmarks/import_memory.py
	$(BIN)/python benchmarks/api_scale.py
	$(BIN)/python benchmarks/alerts.py
	$(BIN)/python benchmarks/digest.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
