"""The store tests."""
