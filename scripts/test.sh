#!/usr/bin/env bash
# Set everything up and run the whole test suite: lint, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/services.sh
echo "== ruff"; .venv/bin/ruff check creditindex tests bench app.py
echo "== mypy (strict on the package)"; .venv/bin/mypy
echo "== pytest"; .venv/bin/pytest -p no:cacheprovider "$@"
