"""The spark tests."""
