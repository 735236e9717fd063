"""Databricks SQL: tests/engines/databricks/standin.py declares its stand-in (a Spark 4.3 Thrift
Server, spark.py, behind a test-side Thrift proxy, thrift_proxy.py)."""
