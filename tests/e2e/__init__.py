"""The e2e tests."""
