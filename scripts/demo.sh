#!/usr/bin/env bash
# The main job on the bundled sample data, in the SQLite store (no server to start):
# set up, load the sample, run the daily evaluation, show the day's lowest indices.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh run
ON=${ON:-$(date +%F)}
DB=${CREDITINDEX_DB:-sqlite:///$PWD/var/creditindex.sqlite}
CI_BIN=.venv/bin/creditindex
mkdir -p out var
$CI_BIN db sample --db "$DB"
$CI_BIN evaluate --db "$DB" --on "$ON" --no-progress
$CI_BIN compute --db "$DB" --on "$ON" --out out/indices.csv
echo
echo "Lowest indices on $ON (every subject is in out/indices.csv):"
.venv/bin/python - <<'PY'
import polars as pl
from creditindex.output import render_table
frame = pl.read_csv("out/indices.csv", infer_schema_length=0).with_columns(
    pl.col("index").cast(pl.Float64))
print(render_table(frame.sort("index").head(10).select(
    "subject_id", "subject_type", "subject_name", "index", "grade", "watch", "restricted_in")))
print(render_table(frame.group_by("subject_type").agg(
    pl.len().alias("subjects"), (pl.col("restricted") == "true").sum().alias("restricted"),
    pl.col("index").cast(pl.Float64).mean().round(2).alias("mean index")).sort("subject_type")))
PY
echo
echo "Next: .venv/bin/creditindex explain --db $DB --on $ON --subject <subject_id>"
echo "      .venv/bin/streamlit run app.py   (sign in as staff / staff-demo)"
