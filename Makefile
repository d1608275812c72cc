# Developer tasks. CI runs `make test` through .ci/run.
PY ?= python3

VENV := .venv
BIN := $(VENV)/bin
# benchmarks/ may not exist yet: lint only the folders that are there.
LINT_PATHS := $(wildcard src tests benchmarks examples)

.PHONY: venv lint test postgres chromium studio studio-api azurite demo bench bench-studio bench-data bench-serving format clean

# The studio (web app) is built by Vite into the Python package, which serves it at /.
STUDIO_DIST := src/ember/server/studio_dist
# npm ci again only when the lock file is newer than what node_modules was installed from.
STUDIO_DEPS := studio/node_modules/.ember-installed
STUDIO_SOURCES := $(shell find studio/src studio/public studio/scripts -type f 2>/dev/null) \
	studio/index.html studio/package.json studio/package-lock.json studio/tsconfig.json \
	studio/vite.config.ts studio/openapi.json

venv: $(VENV)/.installed

# The stamp makes re-runs instant; editing pyproject.toml reinstalls.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

lint: venv
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy
	$(BIN)/lint-imports

# The PostgreSQL tests start their own throwaway server; this only makes sure the binaries exist.
postgres:
	bash scripts/ensure-postgres.sh

# The browser tests (tests/studio) drive Debian's chromium with Playwright; this installs it when root.
chromium:
	bash scripts/ensure-chromium.sh

$(STUDIO_DEPS): studio/package-lock.json
	cd studio && npm ci
	touch $@

# Vite rewrites index.html on every build, so it is the stamp: re-runs with no source change are instant.
$(STUDIO_DIST)/index.html: $(STUDIO_DEPS) $(STUDIO_SOURCES)
	cd studio && npm run build
	touch $@

studio: $(STUDIO_DIST)/index.html

# Azurite, the Azure Blob emulator the datastore tests start (tests/support/azurite.py), pinned by its lock file.
AZURITE_DEPS := tests/support/azurite/node_modules/.ember-installed

$(AZURITE_DEPS): tests/support/azurite/package-lock.json
	cd tests/support/azurite && npm ci
	touch $@

azurite: $(AZURITE_DEPS)

# After changing the API: regenerate studio/openapi.json and the studio's types from it (commit both).
studio-api: venv $(STUDIO_DEPS)
	$(BIN)/python scripts/dump_openapi.py
	cd studio && npm run gen:api

test: venv lint postgres chromium studio azurite
	cd studio && npm test
	$(BIN)/python -m pytest

demo: venv studio
	$(BIN)/python examples/demo.py

bench: venv
	$(BIN)/python benchmarks/tracking.py

# The studio against the MLflow UI in headless Chromium, on 100,000 runs (docs/performance.md, "Studio").
bench-studio: venv chromium studio
	$(BIN)/python benchmarks/studio.py

# Datasets: a 1 GiB CSV into pandas, a 10,000,000-row profile, 2,000 small files on Azurite and moto
# (docs/performance.md, "Data"). The generated data is kept in .bench/data for the next run.
bench-data: venv azurite
	$(BIN)/python benchmarks/data.py

# Online scoring: an endpoint with two replicas against `mlflow models serve` (docs/performance.md, "Serving").
bench-serving: venv
	$(BIN)/python benchmarks/serving.py

format: venv
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

# Leaves .venv and studio/node_modules alone; remove it by hand to start from scratch.
clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache .bench test-artifacts demo-workspace $(STUDIO_DIST)
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -type d -print \
		| xargs rm -rf
