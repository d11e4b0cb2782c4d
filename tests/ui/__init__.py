"""The ui tests."""
