"""``python -m creditindex``."""

from creditindex.cli import main

main()
