# The two commands a fresh machine needs (see README):
#   make bench   set up, run the default DuckDB benchmark, write results/report.html
#   make test    set up, lint, and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: bench test lint format clean

$(BIN)/whbench: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

bench: $(BIN)/whbench
	$(BIN)/whbench run; status=$$?; $(BIN)/whbench report && exit $$status

lint: $(BIN)/whbench
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The Redshift tests run PostgreSQL 15 (Debian's package) as a local stand-in.
POSTGRES = /usr/lib/postgresql/15/bin/initdb

$(POSTGRES):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15

test: lint $(POSTGRES)
	$(BIN)/pytest

format: $(BIN)/whbench
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) results/*
