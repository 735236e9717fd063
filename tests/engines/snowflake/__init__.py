"""Snowflake: tests/engines/snowflake/standin.py declares its stand-in (fakesnow)."""
