#!/usr/bin/env bash
# The main job on the bundled sample data: set up, then compute today's indices.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ON=${ON:-$(date +%F)}
mkdir -p out
.venv/bin/creditindex compute --on "$ON" --records data/sample/records.csv \
  --subjects data/sample/subjects.csv --out out/indices.csv
echo
echo "Lowest indices on $ON (all of them are in out/indices.csv):"
.venv/bin/python - "$ON" <<'PY'
import sys
import polars as pl
from creditindex.output import render_table
frame = pl.read_csv("out/indices.csv")
print(render_table(frame.sort("index").head(10).select(
    "subject_id", "subject_type", "subject_name", "index", "grade", "restricted")))
print(frame.group_by("subject_type", "grade").len().sort("subject_type", "grade"))
PY
