"""Benchmarks (not part of the timed test suite).

``python -m bench [--sizes 100k,1m,10m] [--out bench/results/latest.json]`` compares the
engine with the SQL a trading centre would write (DuckDB) and with plain pandas on the
same generated records, checks that all three give the same answers, and writes a table
(``bench/results/latest.md``) and a JSON file of results. See ``bench/runner.py``.
"""
