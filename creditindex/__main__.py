"""``python -m creditindex``."""

from creditindex.cli import run

run()
