"""Builders shared by the test modules: test databases and clients (`databases`), and the data
that several modules build through the HTTP API (`crosswalk`, `exports`, `workspaces`).

Test modules import from here and from tests/helpers.py, never from one another."""
