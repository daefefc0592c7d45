# Two commands on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lint format worker clean

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Perdura needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $@

## run: install, migrate, and serve the console with in-process workers and the samples
run: $(INSTALLED)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py serve

## test: install and run the whole suite (lint, format check, layer contracts, tests) on the embedded default
test: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pytest

## worker: the production worker process (needs DATABASE_URL and REDIS_URL)
worker: $(INSTALLED)
	$(BIN)/python manage.py worker

lint: $(INSTALLED)
	$(BIN)/ruff check .

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## bench: the benchmark workloads against the local PostgreSQL and Redis, with DBOS as the peer
## (BENCH_ARGS="--quick" for the two-minute run, "--mode embedded" for SQLite, "W1 W3" for some)
BENCH_INSTALLED := $(VENV)/.bench-installed
BENCH_ARGS ?=

$(BENCH_INSTALLED): pyproject.toml $(INSTALLED)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev,bench]"
	@touch $@

.PHONY: bench
bench: $(BENCH_INSTALLED)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
