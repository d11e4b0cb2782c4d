"""Small builders shared by tests: valid identifiers and record rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from creditindex.identifiers import rid_check_char, uscc_check_char


def uscc(n: int) -> str:
    """A valid USCC numbered ``n`` (region 440106)."""
    body = f"91440106MA{n:07d}"[:17]
    return body + uscc_check_char(body)


def rid(n: int, birth: str = "19800101") -> str:
    """A valid resident ID number numbered ``n``."""
    body = f"440106{birth}{n % 1000:03d}"
    return body + rid_check_char(body)


def row(subject_id: str, subject_type: str, code: str, decided: str, **extra: Any
        ) -> dict[str, Any]:
    """A record row with sensible defaults; dates given as ISO strings."""
    base: dict[str, Any] = {
        "record_id": extra.pop("record_id", f"{subject_id}-{code}-{decided}"),
        "source": extra.pop("source", "广州市住房和城乡建设局"),
        "industry": extra.pop("industry", "housing"),
        "region": extra.pop("region", "440106"),
        "subject_id": subject_id,
        "subject_name": extra.pop("subject_name", f"name of {subject_id}"),
        "subject_type": subject_type,
        "behaviour_code": code,
        "decided_on": dt.date.fromisoformat(decided),
    }
    for key, value in extra.items():
        base[key] = dt.date.fromisoformat(value) if key.endswith("_on") and value else value
    return base


def day(text: str) -> dt.date:
    """An ISO date."""
    return dt.date.fromisoformat(text)
