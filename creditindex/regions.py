"""Region names from the national administrative-division codes (GB/T 2260), shipped as
data (``creditindex/data/regions_gbt2260.csv``; its source is in ``data/README.md``)."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

REGIONS_CSV = Path(__file__).resolve().parent / "data" / "regions_gbt2260.csv"


@cache
def divisions() -> dict[str, str]:
    """Every code of the shipped table with its own name (``440103`` → ``荔湾区``)."""
    with REGIONS_CSV.open(encoding="utf-8", newline="") as f:
        return {row["code"]: row["name"] for row in csv.DictReader(f)}


def region_name(code: str) -> str:
    """A region code's name as people write it: the city and the district
    (``440103`` → ``广州市荔湾区``), the city (``440300`` → ``深圳市``) or the province;
    ``""`` when the code is not in the table."""
    known = divisions()
    code = str(code or "").strip()
    if len(code) != 6 or code not in known:
        return ""
    if code.endswith("0000"):
        return known[code]
    city = known.get(code[:4] + "00", "")
    if code.endswith("00") or city == known[code]:
        return known[code]
    if not city:  # a county directly under the province
        return known[code]
    return city + known[code]
