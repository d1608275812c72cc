# Developer tasks. CI runs `make test` through .ci/run.
PY ?= python3

VENV := .venv
BIN := $(VENV)/bin
# benchmarks/ may not exist yet: lint only the folders that are there.
LINT_PATHS := $(wildcard src tests benchmarks examples)

.PHONY: venv lint test postgres demo bench format clean

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

test: venv lint postgres
	$(BIN)/python -m pytest

demo: venv
	$(BIN)/python examples/demo.py

bench: venv
	$(BIN)/python benchmarks/tracking.py

format: venv
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

# Leaves .venv alone; remove it by hand to start from scratch.
clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache .bench test-artifacts demo-workspace
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -type d -print \
		| xargs rm -rf
