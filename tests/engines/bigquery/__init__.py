"""BigQuery: tests/engines/bigquery/standin.py declares its stand-in (bqemulator)."""
