# casemgmt — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck importlint unit bench chaos venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## Set up, migrate the embedded SQLite database, load the demo, start API + worker + beat.
run: $(STAMP)
	$(BIN)/casemgmt up

## Set up and run every check and test (PostgreSQL/Redis too when their URLs are set).
test: $(STAMP) lint typecheck importlint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests api workers migrations bench
	$(BIN)/ruff format --check src tests api workers migrations bench

typecheck: $(STAMP)
	$(BIN)/mypy

importlint: $(STAMP)
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

## Benchmarks: prints tables, writes bench/results.json. Uses PostgreSQL when
## CASEMGMT_BENCH_POSTGRES_URL (or CASEMGMT_TEST_POSTGRES_URL) is set.
bench: $(STAMP)
	$(BIN)/python -m bench

## Fault injection (not part of `make test`): private PostgreSQL and Redis on free ports,
## API, worker, beat, receiver, tailers; prints a table, writes bench/chaos.json.
chaos: $(STAMP)
	$(BIN)/python -m bench.chaos

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
