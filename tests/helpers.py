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
    dates = ("publish_until", "restrict_until")
    for key, value in extra.items():
        is_date = (key.endswith("_on") or key in dates) and value and value != "permanent"
        base[key] = dt.date.fromisoformat(value) if is_date else value
    return base


def day(text: str) -> dt.date:
    """An ISO date."""
    return dt.date.fromisoformat(text)


def example_rules(restricted_d: bool = False) -> Any:
    """The default rule set as the worked examples of docs/semantics.md state it:
    BID-COLLUSION bars for 1,095 days in every category (no statutory range, no scope);
    with ``restricted_d``, grade D bars by grade, citing a basis."""
    from creditindex.rules import load_rules

    rules = load_rules()
    behaviours = [
        b.model_copy(update={"restrict_days": 1095, "restrict_min_days": None,
                             "restrict_max_days": None, "restrict_scope": None})
        if b.code == "BID-COLLUSION" else b for b in rules.behaviour]
    grades = [
        g.model_copy(update={"restricted": True,
                             "basis": "某省公共资源交易信用管理办法（示例）"})
        if restricted_d and g.name == "D" else g for g in rules.grade]
    from creditindex.rules import parse_rules
    from creditindex.rules_edit import to_toml

    variant = rules.model_copy(update={"behaviour": behaviours, "grade": grades})
    return parse_rules(to_toml(variant), "<worked-example rules>")


def example_rules_file(folder: Any, restricted_d: bool = False) -> str:
    """:func:`example_rules` written as a rule file in ``folder``; its path."""
    from pathlib import Path

    from creditindex.rules_edit import to_toml

    path = Path(folder) / ("examples-restricted-d.toml" if restricted_d else "examples.toml")
    path.write_text(to_toml(example_rules(restricted_d)), encoding="utf-8")
    return str(path)
