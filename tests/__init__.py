"""Tests of creditindex (a package, so that test helpers import by their full name)."""
