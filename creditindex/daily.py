"""The daily job's view over the engine (docs/glossary.md, "the daily job"): for each
subject, the first day after D on which its day's answer may change.

A subject's answer on a day (index, grade, watch level, restriction, reasons; §5, §6 of
docs/semantics.md) can change only on one of its change points: a counted record
starts or stops deducting (decision, expiry, repair day), a restriction of any cause
begins or ends, something about its records becomes known (recorded, revoked or
repaired: §4), or, every day, while a linearly decaying deduction counts. Between two
such days the answer stands, so the daily job recomputes a subject only on them
(:mod:`creditindex.store.snapshots`). The end of a record's publication
(:mod:`creditindex.disclosure`) is not one: the day's answer does not depend on it (public
faces filter the records they show, not the answer), and on a store whose records end a
month ago a third of the subjects reach such a day within a month.

Pure: frames in, frames out; the numbers come from :func:`engine.ledger` and the
restriction intervals of :func:`evaluate.restrictions` (as known on the day), those
the records cause read off the engine's arrays (:func:`restriction_days`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from creditindex import engine, evaluate, restrict
from creditindex.days import to_day
from creditindex.engine.ledger import ledger_frame
from creditindex.engine.restrictions import (
    RecordRestrictions,
    ledger_restrictions,
    record_restrictions,
)
from creditindex.rules import RuleSet

NEXT_CHANGE_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(), "subject_type": pl.String(), "next_change": pl.Date(),
    "decays_until": pl.Date()}
# Record dates on which something about a record becomes known (docs/semantics.md §4).
_KNOWN_ON_COLUMNS = ("recorded_on", "revoked_on", "repaired_on")
_NEVER = to_day(dt.date(9999, 12, 31))  # days from here on stand for "no end"


def _days(frame: pl.DataFrame, keys: list[str], *columns: pl.Expr) -> pl.DataFrame:
    return pl.concat([frame.select(*keys, column.cast(pl.Int32).alias("at"))
                      for column in columns]) if columns else pl.DataFrame(
        schema={**{k: pl.String() for k in keys}, "at": pl.Int32()})


def next_change(data: evaluate.CreditData, day: dt.date | int,
                ledger: pl.DataFrame | None = None,
                found: RecordRestrictions | None = None) -> pl.DataFrame:
    """Per (subject_id, subject_type) of ``data``: ``next_change``, the first day after
    ``day`` on which a change point may change its answer as known that day (null: none,
    unless new facts arrive), and ``decays_until``, the last day on which a linearly
    decaying deduction keeps changing its index daily (null: none counts on ``day``).
    Until ``next_change`` only the decay moves the answer. :data:`NEXT_CHANGE_SCHEMA`.
    ``ledger``: ``engine.ledger(data.records, data.rules, day)`` and ``found``: the
    restrictions of the records as known on ``day``, if already at hand (both at once:
    :func:`ledger_and_restrictions`)."""
    d = day if isinstance(day, int) else to_day(day)
    key = engine.SUBJECT_KEY
    if ledger is None:
        ledger = engine.ledger(data.records, data.rules, d)
    active = (pl.col("decided") <= d) & (pl.col("end") > d)
    first = change_days(data, d, ledger, found).group_by(key).agg(pl.col("at").min())
    decaying = ledger.filter(pl.col("linear") & active).group_by(key).agg(
        (pl.col("end").max() - 1).cast(pl.Date).alias("decays_until"))
    return data.subject_keys().join(first, on=key, how="left").join(
        decaying, on=key, how="left").select(
        *key, pl.col("at").cast(pl.Date).alias("next_change"), "decays_until")


def change_days(data: evaluate.CreditData, day: int, ledger: pl.DataFrame,
                found: RecordRestrictions | None = None) -> pl.DataFrame:
    """``subject_id, subject_type, at``: every change point of every subject of ``data``
    after ``day`` (as known that day; ``ledger``: ``engine.ledger`` as known that day,
    ``found``: the records' restrictions, if at hand), each once; :func:`next_change`
    is the first."""
    key = engine.SUBJECT_KEY
    by_key = [
        _days(ledger, key, pl.col("decided"), pl.col("end")),
        _days(data.records, key,
              *(pl.col(c) for c in _KNOWN_ON_COLUMNS if c in data.records.columns)),
    ]
    later = (pl.col("at") > day) & (pl.col("at") < _NEVER)  # null: no end
    from_keys = pl.concat(by_key).filter(later)
    from_ids = data.subject_keys().join(restriction_days(data, day, found).filter(later),
                                        on="subject_id")
    return pl.concat([from_keys, from_ids.select(*key, "at")]).unique()


def knowledge_days(data: evaluate.CreditData, day: int) -> pl.DataFrame:
    """``subject_id, at``: per subject_id, the first day after ``day`` on which a fact
    about its records already in ``data`` becomes known (recorded, revoked, repaired:
    docs/semantics.md §4); subjects with none are left out. Until then every answer
    of the subject as known on ``day`` is the answer as known on its own day."""
    columns = [pl.col(c) for c in _KNOWN_ON_COLUMNS if c in data.records.columns]
    return _days(data.records, ["subject_id"], *columns).filter(pl.col("at") > day).group_by(
        "subject_id").agg(pl.col("at").min())


# The answers of a recomputed subject are computed ahead this many days at most.
SPELL_DAYS = 366
AHEAD_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(), "subject_type": pl.String(), "day": pl.Date(),
    "subject_name": pl.String(), "index": pl.Float64(), "grade": pl.String(),
    "watch": pl.String(), "deducted": pl.Float64(), "restricted": pl.Boolean(),
    "restricted_in": pl.String(), "reasons": pl.String(), "next_change": pl.Date(),
    "decays_until": pl.Date()}


@dataclass(frozen=True)
class Ahead:
    """Every subject of some data recomputed on a day: its answer that day with its next
    change point (``today``), its answers on its coming change points (``spells``: the
    same columns, one row per role and change day, up to the subject's first knowledge
    day or :data:`SPELL_DAYS`), both :data:`AHEAD_SCHEMA`, and the ledger as known that
    day (``ledger``, :func:`engine.ledger`'s frame)."""

    today: pl.DataFrame
    spells: pl.DataFrame
    ledger: pl.DataFrame


def answers_ahead(data: evaluate.CreditData, day: dt.date | int,
                  spell_days: int = SPELL_DAYS) -> Ahead:
    """Every subject of ``data`` on ``day`` (as ``evaluate.compute`` and
    :func:`next_change` answer) and on each of its change points in the next
    ``spell_days`` days before a fact already in ``data`` becomes known: each of those
    answers is the one that day gives as known on its own day, since what is known does
    not change before then. Every role of a subject_id is answered on the change days of
    any of its roles (a restriction holds in every role). One compilation of the
    ledger."""
    d = day if isinstance(day, int) else to_day(day)
    key = engine.SUBJECT_KEY
    compiled = evaluate.compile_known(data, d)
    ledger = ledger_frame(data.records, compiled.la)
    changes = change_days(data, d, ledger, compiled.found)
    ids = data.subject_keys().select("subject_id").unique()
    limit = ids.join(knowledge_days(data, d), on="subject_id", how="left").select(
        "subject_id", pl.min_horizontal(pl.col("at"), pl.lit(d + spell_days + 1))
        .alias("_limit"))
    ahead = changes.join(limit, on="subject_id").filter(pl.col("at") < pl.col("_limit")
                                                         ).select("subject_id", "at")
    wanted = pl.concat([ids.with_columns(pl.lit(d, pl.Int32).alias("day")),
                        ahead.rename({"at": "day"})]).unique()
    many = evaluate.compute_many(data, wanted, compiled)
    # each answer's next change point: the first of its role's change days after it
    following = changes.rename({"at": "next_change"}).sort("next_change")
    many = many.sort("day").join_asof(
        following, left_on="day", right_on="next_change", by=key, strategy="forward",
        allow_exact_matches=False, check_sortedness=False)
    rows = many.select(*key, pl.col("day").cast(pl.Date), *evaluate.MANY_COLUMNS[3:-1],
                       pl.col("next_change").cast(pl.Date),
                       pl.col("decays_until").cast(pl.Date)).cast(AHEAD_SCHEMA)  # type: ignore[arg-type]
    today = rows.filter(pl.col("day") == pl.lit(d).cast(pl.Date))
    return Ahead(today=today, spells=rows.filter(pl.col("day") > pl.lit(d).cast(pl.Date)),
                 ledger=ledger)


def restriction_days(data: evaluate.CreditData, known_on: int,
                     found: RecordRestrictions | None = None) -> pl.DataFrame:
    """``subject_id, at``: the first and the first free day of every restriction
    interval of :func:`evaluate.restrictions` (as known on ``known_on``; an end of
    ``OPEN_DAY`` or later, or null, left out: no end), those the records cause read straight off
    the engine's arrays (no grounds are written for them; ``found``: those
    restrictions, if at hand)."""
    if found is None:
        found = record_restrictions(data.records, data.rules, known_on)
    bars, sus = found.bars, found.suspensions
    g_code, _, g_start, g_end = found.grades
    bar_end = bars.value.astype(np.int64)
    codes: list[npt.NDArray[np.int64]] = [
        bars.code.astype(np.int64), bars.code[bar_end < engine.OPEN_DAY].astype(np.int64),
        g_code.astype(np.int64), g_code[g_end < engine.OPEN_DAY].astype(np.int64)]
    days: list[npt.NDArray[np.int64]] = [
        bars.decided.astype(np.int64), bar_end[bar_end < engine.OPEN_DAY],
        g_start.astype(np.int64), g_end[g_end < engine.OPEN_DAY].astype(np.int64)]
    rule = data.rules.expert_suspension
    if rule is not None:
        codes += [sus.code.astype(np.int64)] * 2
        days += [sus.start.astype(np.int64), sus.start.astype(np.int64) + rule.suspend_days]
    ids = data.records.get_column("subject_id").gather(pl.Series(found.codes.first_row))
    code = np.concatenate(codes)
    from_records = pl.DataFrame({
        "subject_id": ids.gather(pl.Series(code)) if code.size else pl.Series(
            [], dtype=pl.String),
        "at": pl.Series(np.concatenate(days), dtype=pl.Int64).cast(pl.Int32)})
    others = [restrict.list_restrictions(data.list_hits())]
    if data.manual is not None:
        others.append(restrict.manual_restrictions(data.manual))
    return pl.concat([from_records, _days(pl.concat(others), ["subject_id"], pl.col("start"),
                                          pl.col("end")).drop_nulls()])


def ledger_and_restrictions(data: evaluate.CreditData, day: dt.date | int
                            ) -> tuple[pl.DataFrame, RecordRestrictions]:
    """``engine.ledger(data.records, data.rules, day)`` and the restrictions the records
    cause as known on ``day``, from one compilation of the ledger (for
    :func:`next_change`)."""
    d = day if isinstance(day, int) else to_day(day)
    la, found = ledger_restrictions(data.records, data.rules, d)
    return ledger_frame(data.records, la), found


STANDING_COLUMNS = ("subject_name", "restricted", "restricted_in")


def grounds_expr(reasons: pl.Expr) -> pl.Expr:
    """The restriction's grounds written in ``reasons``: everything after the first
    ``restricted: `` (null: none), found as literal text (no regular expression)."""
    return reasons.str.splitn("restricted: ", 2).struct.field("field_1")


def standing(answer: pl.DataFrame) -> pl.DataFrame:
    """What of answers (columns of ``evaluate.compute``) a decay leaves standing, all
    :func:`decayed_answer` takes from them: the key, name, restriction and its grounds
    (``_grounds``, from the reasons)."""
    return answer.select(*engine.SUBJECT_KEY, *STANDING_COLUMNS,
                         grounds_expr(pl.col("reasons")).alias("_grounds"))


def decayed_answer(answer: pl.DataFrame, ledger: pl.DataFrame, rules: RuleSet,
                   day: dt.date | int) -> pl.DataFrame:
    """The answers of subjects on ``day`` (columns of ``evaluate.compute`` but the rank)
    from their answers on an earlier day (``answer``) when nothing but a linear decay
    moved since: their ledger rows (``ledger``) give the day's deductions, index, grade,
    watch level and deduction reasons; name, restriction and its grounds stand."""
    d = day if isinstance(day, int) else to_day(day)
    key = engine.SUBJECT_KEY
    scores = engine.scores_on(ledger, rules, d, subjects=answer.select(key))
    deductions = evaluate.deduction_reasons(engine.deductions_on(ledger, d))
    return standing(answer).join(
        scores.select(*key, "index", "grade", "deducted"), on=key).join(
        deductions, on=key, how="left").with_columns(
        evaluate.watch_expr(rules, pl.col("grade")).alias("watch"),
        evaluate.reasons_expr(pl.col("_ded_reasons"), pl.col("_grounds")).alias("reasons"),
    ).drop("_ded_reasons", "_grounds")
