# The two commands: `make run` and `make test`. Each sets up what it needs (virtualenv, install,
# migrations) on a machine with only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run serve migrate test lint contract

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "notes_app needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[dev]'
	touch $@

migrate: install
	$(BIN)/python -m notes_app.migrate

run: migrate
	$(BIN)/uvicorn notes_app.main:app --host $(HOST) --port $(PORT) --no-access-log

# Production: WEB_CONCURRENCY uvicorn workers (default 1), graceful shutdown on SIGTERM (notes_app/serve.py,
# docs/scaling.md). Migrations are a separate step in a deployment: `make migrate`, once, before.
serve: install
	HOST=$(HOST) PORT=$(PORT) $(BIN)/notes_app

test: install
	$(BIN)/pytest

# Schemathesis against a live server (schemathesis.toml): on TEST_DATABASE_URL's PostgreSQL when set.
# Other seeds or more examples: make contract CONTRACT_ARGS='--seed 7 --max-examples 150'
contract: install
	$(BIN)/python -m tests.run_schemathesis $(CONTRACT_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy notes_app tortoise_config.py

# GET /notes at a million notes on PostgreSQL (~2 min): seeds its own database (notes_listing_bench), serves
# the app on loopback and writes bench/LISTING.md. BENCH_LISTING_ARGS=--keep keeps the database; --reuse
# measures a kept one again without seeding.
.PHONY: bench-listing
bench-listing: install
	$(BIN)/python bench/listing.py $(BENCH_LISTING_ARGS)

# The benchmark: notes_app against the baseline apps under the same load, written to bench/RESULTS.md
# with its chart bench/RESULTS.png (~15 min). Sets up what it needs (bench/setup.sh: PostgreSQL
# started, wrk, bench/.venv). Options go in BENCH_ARGS, e.g. `make bench BENCH_ARGS=--quick`; all of them: bench/.venv/bin/python bench/run.py -h
.PHONY: bench
bench:
	PYTHON=$(PYTHON) bash bench/setup.sh
	bench/.venv/bin/python bench/run.py $(BENCH_ARGS)

# The bench's own tests (~15 s, no wrk load): raw_full answers what notes_app answers and leaves the
# same rows (bench/tests/test_parity.py), both apps on one small database of their own
# (BENCH_DB_PREFIX + _parity, default notes_bench_parity).
.PHONY: bench-test
bench-test:
	PYTHON=$(PYTHON) bash bench/setup.sh
	cd bench && .venv/bin/python -m pytest $(BENCH_TEST_ARGS)
