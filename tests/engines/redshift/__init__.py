"""Redshift: tests/engines/redshift/standin.py declares its stand-in (PostgreSQL behind
the protocol shim in postgres.py)."""
