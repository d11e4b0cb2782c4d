"""The service tests."""
