"""Rule sets as the faces show them: the text in force, every published version with its
note, and what a draft would change (every subject's answer before and after)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import select

from creditindex import evaluate
from creditindex.evaluate import CreditData
from creditindex.rules import DEFAULT_RULES, RuleSet
from creditindex.service.days import Rankings, with_rules
from creditindex.service.state import ready_engine
from creditindex.store.db import read_transaction, table
from creditindex.store.rulesets import list_versions, rules_for

IMPACT_COLUMNS = ["subject_id", "subject_type", "subject_name", "index_before",
                  "index_after", "change", "grade_before", "grade_after",
                  "restricted_before", "restricted_after"]


def rules_in_force(url: str, day: dt.date) -> RuleSet:
    """The rule set in force on ``day`` (the project's default when none is published)."""
    with read_transaction(ready_engine(url)) as conn:
        return rules_for(conn, None, day)


def rules_text(url: str, in_force: RuleSet) -> str:
    """The TOML text of the rule set ``in_force`` as published (the project's default
    file when the store has none)."""
    v = table("rule_set_version")
    with read_transaction(ready_engine(url)) as conn:
        text = conn.execute(select(v.c.toml_text).where(
            v.c.content_hash == in_force.content_hash)).scalar()
    return str(text) if text is not None else DEFAULT_RULES.read_text(encoding="utf-8")


def rule_versions(url: str, today: dt.date) -> pl.DataFrame:
    """Every published rule-set version, with the one in force ``today`` marked."""
    ready_engine(url)
    return list_versions(url, today)


def published_notes(url: str) -> pl.DataFrame:
    """Every published rule-set version with its publish note."""
    v = table("rule_set_version")
    with read_transaction(ready_engine(url)) as conn:
        rows = conn.execute(select(v.c.content_hash, v.c.note)).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row",
                        schema={"content_hash": pl.String, "note": pl.String})


def compare(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """Join two ``compute`` answers (e.g. under the rule set in force and a draft) subject
    by subject: :data:`IMPACT_COLUMNS`, ``change = index_after - index_before``."""
    key = ["subject_id", "subject_type"]
    b = before.select(*key, "subject_name", pl.col("index").alias("index_before"),
                      pl.col("grade").alias("grade_before"),
                      pl.col("restricted").alias("restricted_before"))
    a = after.select(*key, pl.col("subject_name").alias("_name_after"),
                     pl.col("index").alias("index_after"),
                     pl.col("grade").alias("grade_after"),
                     pl.col("restricted").alias("restricted_after"))
    both = b.join(a, on=key, how="full", coalesce=True)
    return both.with_columns(
        pl.coalesce("subject_name", "_name_after").alias("subject_name"),
        (pl.col("index_after") - pl.col("index_before")).round(2).alias("change"),
    ).select(IMPACT_COLUMNS)


def impact(before: Rankings, data: CreditData, draft: RuleSet, on: dt.date,
           known_on: dt.date) -> pl.DataFrame:
    """Every subject's answer on ``on`` under the rule set in force (``before``, the
    day's rankings) and under ``draft`` (computed from ``data``), by :func:`compare`."""
    after = evaluate.compute(with_rules(data, draft), on, known_on)
    return compare(pl.concat(list(before.by_type.values()), how="diagonal_relaxed")
                   .select(evaluate.COMPUTE_COLUMNS), after)
