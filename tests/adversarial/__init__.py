"""The adversarial tests."""
