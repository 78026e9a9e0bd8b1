"""Builders and helpers shared by the tests (the fixtures are in tests/conftest.py)."""
