"""Helpers that only the tests use (never installed with the package)."""
