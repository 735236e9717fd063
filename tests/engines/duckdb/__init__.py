"""DuckDB: tests/engines/duckdb/standin.py declares it; test_duckdb.py tests it."""
