"""The day's answer on the array core (docs/glossary.md): every subject's deduction,
index, grade, rank and whether a cause found in the records restricts it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from creditindex.days import to_day
from creditindex.engine.arrays import NO_DAY, in_parallel, sums
from creditindex.engine.codes import code_chunks, id_groups, subject_codes
from creditindex.engine.ledger import BehaviourTable, RowColumns, compile_ledger
from creditindex.engine.restrictions import suspension_starts
from creditindex.engine.scoring import (
    grade_expr,
    grade_restricted_expr,
    index_expr,
    rank_expr,
    round_half_away,
)
from creditindex.rules import RuleSet

SNAPSHOT_COLUMNS = ["subject_id", "subject_type", "deducted", "index", "grade", "rank",
                    "restricted"]


def snapshot(records: pl.DataFrame, rules: RuleSet, day: dt.date | int,
             known_on: dt.date | int | None = None) -> pl.DataFrame:
    """Every subject's evaluation on ``day`` as known on ``known_on`` (default ``day``):
    :data:`SNAPSHOT_COLUMNS`, one row per (subject_id, subject_type) found in the records
    (as ``evaluate.compute``; ranks are over them). ``restricted`` covers the causes found
    in records (behaviours, restricted grades in any role, expert suspensions), not
    external lists or manual entries. Rows are in no particular order."""
    d = day if isinstance(day, int) else to_day(day)
    k = d if known_on is None else (known_on if isinstance(known_on, int)
                                   else to_day(known_on))
    codes = subject_codes(records)
    size = codes.size
    keys = codes.keys(records)
    expert = np.asarray((keys.get_column("subject_type") == "expert").to_numpy(),
                        dtype=np.bool_)
    deducted = np.zeros(size, dtype=np.float64)
    flag = np.zeros(size, dtype=np.bool_)
    rule = rules.expert_suspension
    columns = RowColumns.of(records, BehaviourTable.of(rules), k)

    def part(chunk: tuple[int, int]) -> None:
        lo, hi = chunk
        la = compile_ledger(records, rules, k, codes, columns, chunk)
        active = np.flatnonzero((la.decided <= d) & (la.end > d))
        weight = np.where(la.linear[active],
                          (la.nominal_end[active] - d) / la.days[active], 1.0)
        deducted[lo:hi] = sums(la.code[active].astype(np.int64) - lo,
                                la.amount[active] * weight, hi - lo)
        by_behaviour = (la.decided <= d) & (la.restrict_end > d) & (
            la.restrict_end != NO_DAY)
        flag[la.code[by_behaviour]] = True
        if rule is not None:
            s_code, s_day = suspension_starts(la, expert, rules)
            flag[s_code[(s_day <= d) & (s_day + rule.suspend_days > d)]] = True

    in_parallel(part, code_chunks(codes))
    scores = keys.with_columns(pl.Series("deducted", deducted)).with_columns(
        index_expr(rules, pl.col("deducted")).alias("index")).with_columns(
        grade_expr(rules, pl.col("index")).alias("grade")).with_columns(
        grade_restricted_expr(rules, pl.col("grade")).alias("_flag"))
    flag |= np.asarray(scores.get_column("_flag").to_numpy(), dtype=np.bool_)
    group = id_groups(keys)
    restricted = np.bincount(group, weights=flag.astype(np.float64))[group] > 0
    return scores.with_columns(
        round_half_away(pl.col("deducted")).alias("deducted"), rank_expr().alias("rank"),
        pl.Series("restricted", restricted),
    ).select(SNAPSHOT_COLUMNS)
