"""MotherDuck: tests/engines/motherduck/standin.py declares it; test_motherduck.py tests it."""
