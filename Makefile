# Upswing's shared commands. `make demo` and `make test` are the two a newcomer needs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= var/demo
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
DASHBOARD := dashboard
# The dashboard's installed packages (npm writes this file on every install) and its build.
NODE_STAMP := $(DASHBOARD)/node_modules/.package-lock.json
DIST := $(DASHBOARD)/dist/index.html
DASHBOARD_SOURCES := $(shell find $(DASHBOARD)/src $(DASHBOARD)/public -type f 2>/dev/null) \
	$(wildcard $(DASHBOARD)/index.html $(DASHBOARD)/vite.config.ts $(DASHBOARD)/tsconfig.json $(DASHBOARD)/package.json)

.PHONY: install build demo demo-reset test lint fuzz bench api-client docs clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "needs $(PYTHON)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,docs]'
	touch $(STAMP)

install: $(STAMP)

## The dashboard's packages, from the committed lock file (no browser download: the e2e tests use Debian's chromium)
$(NODE_STAMP): $(DASHBOARD)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "needs Node.js and npm (apt-get install nodejs npm)"; exit 1; }
	cd $(DASHBOARD) && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

## Type-check and build the dashboard into dashboard/dist (served by the API at /); nothing to do when the build is
## newer than its sources
$(DIST): $(NODE_STAMP) $(DASHBOARD_SOURCES)
	cd $(DASHBOARD) && npm run build

build: $(DIST)

## Set up, load the bundled demo into SQLite (first run only: later runs keep what is there), serve on
## http://$(HOST):$(PORT). A port in use is reported before anything is touched.
demo: $(STAMP) $(DIST)
	UPSWING_DATA_DIR=$(DEMO_DIR) $(BIN)/upswing demo run --host $(HOST) --port $(PORT)

## The same, but start from an empty demo database (everything done in the demo is lost)
demo-reset: $(STAMP) $(DIST)
	UPSWING_DATA_DIR=$(DEMO_DIR) $(BIN)/upswing demo run --reset --host $(HOST) --port $(PORT)

## Run every test: the Python suite (SQLite always, PostgreSQL when reachable, forced in CI), the documentation
## site's strict build, then the dashboard's
## type check, a check that the generated API client is current, its unit tests, its build, and the end-to-end tests
## (Playwright in /usr/bin/chromium against demo servers on SQLite and PostgreSQL, ports 8810 and 8811). The fault
## injection tests (tests/faults: real worker processes, a private PostgreSQL and Redis they kill and restart) run
## apart, serially, after the main suite.
test: $(STAMP) $(NODE_STAMP)
	$(BIN)/pytest -n 2 -q -m "not faults" $(PYTEST_ARGS)
	$(BIN)/pytest -p no:xdist -q -m faults tests/faults
	$(MAKE) docs
	cd $(DASHBOARD) && npm run typecheck
	cd $(DASHBOARD) && npx openapi-typescript src/api/openapi.json -o node_modules/.cache/schema.d.ts >/dev/null \
		&& cmp -s node_modules/.cache/schema.d.ts src/api/schema.d.ts \
		|| { echo "dashboard/src/api/schema.d.ts is stale: run \`make api-client\`"; exit 1; }
	cd $(DASHBOARD) && npx vitest run
	cd $(DASHBOARD) && npx vite build
	cd $(DASHBOARD) && npx playwright test

## Regenerate the dashboard's API client from the code: the OpenAPI document, then its TypeScript types
api-client: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m upswing.openapi_dump $(DASHBOARD)/src/api/openapi.json
	cd $(DASHBOARD) && npm run gen:api

## The documentation site (MkDocs, material theme) into site/; --strict: a broken link or a page missing from the
## build fails it. The schema, API and task reference pages are generated from the code as it builds (docs/hooks.py).
## Mermaid, which draws the diagrams, ships with the site from the dashboard's npm packages (nothing from a CDN).
docs: $(STAMP) $(NODE_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

## Fuzz the whole API longer than the test suite does (100 generated requests per operation and role)
fuzz: $(STAMP)
	UPSWING_FUZZ_EXAMPLES=100 $(BIN)/pytest -n 2 -q tests/test_api_fuzz.py

bench: $(STAMP) $(DIST)
	$(BIN)/pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/linkage.py
	$(BIN)/python benchmarks/classify.py
	$(BIN)/python benchmarks/monitoring.py
	$(BIN)/python benchmarks/monitor_plan.py
	$(BIN)/python benchmarks/import_memory.py
	$(BIN)/python benchmarks/api_scale.py
	$(BIN)/python benchmarks/alerts.py
	$(BIN)/python benchmarks/digest.py
	$(BIN)/python benchmarks/dashboard.py
	$(BIN)/python benchmarks/crm_sync.py
	$(BIN)/python benchmarks/holdout_simulation.py
	$(BIN)/python benchmarks/analytics.py
	$(BIN)/python benchmarks/scale.py --leads 10000,100000
	$(BIN)/python benchmarks/soak.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache $(DASHBOARD)/node_modules $(DASHBOARD)/dist \
		$(DASHBOARD)/test-results $(DASHBOARD)/playwright-report site
