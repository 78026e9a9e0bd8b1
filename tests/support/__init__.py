"""Builders and helpers shared by the tests, one module per thing they make (samples, images,
cards, configs, rows, publications, ...); the shared fixtures are in tests/conftest.py and in each
folder's conftest.py."""
