"""The api tests."""
