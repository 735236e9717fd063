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

# whbench run writes the report itself and ends with its verdicts and path (exit 1: a query failed).
bench: $(BIN)/whbench
	$(BIN)/whbench run

lint: $(BIN)/whbench
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The Redshift tests run PostgreSQL 15 (Debian's package) as a local stand-in.
POSTGRES = /usr/lib/postgresql/15/bin/initdb

$(POSTGRES):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15

# The report tests open the report in a real browser: Debian's chromium, headless.
CHROMIUM = /usr/bin/chromium

$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# The BigQuery tests run bqemulator, which needs DuckDB 1.5.5 and its spatial extension (it
# cannot download one here), so it lives in a virtualenv of its own; the extension file comes
# from a wheel and goes where DuckDB 1.5.5 looks for it.
BQEMULATOR = .venv-bqemulator/bin/bqemulator
SPATIAL = $(HOME)/.duckdb/extensions/v1.5.5/linux_amd64/spatial.duckdb_extension

$(BQEMULATOR):
	$(PYTHON) -m venv .venv-bqemulator
	.venv-bqemulator/bin/pip install --quiet bqemulator duckdb==1.5.5 \
		duckdb-extension-spatial==1.5.5 numpy
	touch $@

$(SPATIAL): $(BQEMULATOR)
	mkdir -p $(dir $@)
	cp .venv-bqemulator/lib/python3*/site-packages/duckdb_extension_spatial/extensions/v1.5.5/spatial.duckdb_extension $@

# The Databricks tests run a Spark 4.3 Thrift Server (tests/engines/databricks/spark.py): PyPI's
# pyspark 4.3.0 holds a whole Spark (bin/spark-submit, jars/ with spark-hive-thriftserver), in a
# virtualenv of its own; it needs Java 17 (in the image; else the Databricks tests skip).
SPARK = .venv-spark/bin/pyspark

$(SPARK):
	$(PYTHON) -m venv .venv-spark
	.venv-spark/bin/pip install --quiet pyspark==4.3.0
	touch $@

.venv-spark: $(SPARK)

test: lint $(POSTGRES) $(CHROMIUM) $(SPATIAL) $(SPARK)
	$(BIN)/pytest

format: $(BIN)/whbench
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .venv-bqemulator .venv-spark results/*
