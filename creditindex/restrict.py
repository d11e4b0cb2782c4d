"""Restrictions (docs/semantics.md §6, §8): every cause as dated intervals ``[start, end)`` on the
subject_id, which hold in every role, industry and region (一处受罚、处处受制).

Causes: a behaviour's ``restrict_days``, a restricted grade, an expert suspension, an
external list entry, a manual restriction entered by staff. ``end`` is the first day
without the restriction (null: indefinite). Which intervals the records cause is found
once, on the engine's arrays (:mod:`creditindex.engine.restrictions`); here they get
their grounds (record, document, basis, detail) as frames, with those of lists and
manual entries, and the eligibility index answers many subjects at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import polars as pl

from creditindex import engine
from creditindex.categories import ALL, category_bit, scope_mask_expr, scope_text_expr
from creditindex.days import to_day
from creditindex.engine.arrays import distinct
from creditindex.engine.ledger import BehaviourTable
from creditindex.engine.restrictions import Entries, Suspensions, record_restrictions
from creditindex.engine.scoring import round_half_away
from creditindex.rules import RuleSet

if TYPE_CHECKING:
    from creditindex.evaluate import CreditData

RESTRICTION_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(),
    "cause": pl.String(),        # behaviour | grade | suspension | list | manual
    "code": pl.String(),         # behaviour code, grade name, list name, ...
    "subject_type": pl.String(),  # the role it arose in (null for lists and manual)
    "record_id": pl.String(),
    "source": pl.String(),
    "document_no": pl.String(),
    "detail": pl.String(),
    "basis": pl.String(),        # the legal basis (behaviour, decision, grade rule, ...)
    "scope": pl.Int8(),          # the trading categories barred, as a category mask
    "financier": pl.String(),    # a lender whose own projects alone it bars (null: any)
    "start": pl.Int32(),
    "end": pl.Int32(),
}
CAUSES = ("behaviour", "grade", "suspension", "list", "manual")
_OPEN = engine.OPEN_DAY  # stands for "no end" inside numpy arithmetic


def _shape(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame in :data:`RESTRICTION_SCHEMA`: missing columns empty, a missing scope
    every category."""
    missing = [c for c in RESTRICTION_SCHEMA if c not in frame.columns]
    filled = frame.with_columns(*(pl.lit(None, RESTRICTION_SCHEMA[c]).alias(c) for c in missing))
    filled = filled.with_columns(pl.col("scope").fill_null(ALL))
    return filled.select(list(RESTRICTION_SCHEMA)).cast(RESTRICTION_SCHEMA)  # type: ignore[arg-type]


def applies(category: str | None = None, financier: str | None = None) -> pl.Expr:
    """Whether a restriction answers a question naming ``category`` (none: any category,
    the strictest answer) and ``financier`` (an entry with a financier bars only that
    lender's projects)."""
    cond = pl.col("financier").is_null()
    if financier is not None and financier.strip():
        cond = cond | (pl.col("financier").str.to_lowercase() == financier.strip().lower())
    if category is not None:
        cond = cond & ((pl.col("scope").cast(pl.Int64) & category_bit(category)) != 0)
    return cond


def empty_restrictions() -> pl.DataFrame:
    """A restrictions frame with no rows."""
    return pl.DataFrame(schema=RESTRICTION_SCHEMA)


def bar_restrictions(records: pl.DataFrame, rules: RuleSet, bars: Entries) -> pl.DataFrame:
    """The bars ``bars`` of ``records`` rows (:func:`creditindex.engine.restrictions.bars_of`)
    with their grounds: the record, its decision, the legal basis (the decision's, else
    the behaviour's)."""
    if bars.size == 0:  # (most questions about a few subjects: nothing to word)
        return empty_restrictions()
    rows = pl.Series(bars.row)
    rule_basis = pl.Series([b.basis for b in rules.behaviour], dtype=pl.String)
    record_basis = (records.get_column("basis").gather(rows) if "basis" in records.columns
                    else pl.repeat(None, bars.size, dtype=pl.String, eager=True))
    strings = records.select(pl.col("subject_id", "subject_type", "record_id", "source",
                                    "behaviour_code").gather(rows),
                             _column_or_null(records, "document_no").gather(rows))
    return _shape(strings.with_columns(
        pl.lit("behaviour").alias("cause"), pl.col("behaviour_code").alias("code"),
        pl.format("{} decided {}", pl.col("behaviour_code"),
                  pl.Series(bars.decided).cast(pl.Date).dt.strftime("%Y-%m-%d")).alias("detail"),
        pl.coalesce(record_basis, rule_basis.gather(pl.Series(bars.beh))).alias("basis"),
        pl.Series("scope", bars.scope).cast(pl.Int8),
        pl.Series("start", bars.decided),
        pl.Series("_end", bars.value).cast(pl.Int64),
    ).with_columns(pl.when(pl.col("_end") < _OPEN).then(pl.col("_end")).alias("end")))


def _column_or_null(frame: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name) if name in frame.columns else pl.lit(None, pl.String).alias(name)


def suspension_restrictions(keys: pl.DataFrame, rules: RuleSet, table: BehaviourTable,
                            suspensions: Suspensions) -> pl.DataFrame:
    """Expert suspensions (:func:`creditindex.engine.restrictions.suspensions_of`) with
    their grounds: the behaviours decided on the first day, the points in the window and
    the thresholds; ``keys`` are the subjects by code."""
    rule = rules.expert_suspension
    if rule is None or suspensions.code.size == 0:
        return empty_restrictions()
    names = pl.Series(table.codes, dtype=pl.String)
    codes = pl.DataFrame({"_of": suspensions.of,
                          "behaviour_code": names.gather(pl.Series(suspensions.beh))}
                         ).group_by("_of").agg(pl.col("behaviour_code").sort().str.join(","))
    frame = pl.DataFrame({
        "_of": np.arange(suspensions.code.size),
        "subject_id": keys.get_column("subject_id").gather(pl.Series(suspensions.code)),
        "window_sum": suspensions.window,
        "start": suspensions.start,
    }).join(codes, on="_of", how="left")
    return _shape(frame.select(
        "subject_id", pl.lit("suspension").alias("cause"), pl.col("behaviour_code").alias("code"),
        pl.lit("expert").alias("subject_type"),
        pl.format("{} points in {} days (thresholds {} single / {} total)",
                  round_half_away(pl.col("window_sum")), pl.lit(rule.window_days),
                  pl.lit(rule.single_points), pl.lit(rule.total_points)).alias("detail"),
        pl.lit(rule.basis).alias("basis"),
        pl.col("start"),
        (pl.col("start") + rule.suspend_days).alias("end"),
    ))


def grade_restrictions(keys: pl.DataFrame, rules: RuleSet, grade: IntArray, code: IntArray,
                       start: IntArray, end: IntArray) -> pl.DataFrame:
    """Spells in a restricted grade (number ``grade`` in the rule set) of the subjects
    ``code`` (``keys`` by code), ``end`` at or after ``OPEN_DAY``: none."""
    if code.size == 0:
        return empty_restrictions()
    names = pl.Series([g.name for g in rules.grade], dtype=pl.String)
    basis = pl.Series([g.basis for g in rules.grade], dtype=pl.String)
    at = pl.Series(code)
    return _shape(pl.DataFrame({
        "subject_id": keys.get_column("subject_id").gather(at),
        "subject_type": keys.get_column("subject_type").gather(at),
        "code": names.gather(pl.Series(grade)),
        "basis": basis.gather(pl.Series(grade)),
        "start": start, "_end": end,
    }).with_columns(
        pl.lit("grade").alias("cause"),
        pl.format("grade {} as {}", pl.col("code"), pl.col("subject_type")).alias("detail"),
        pl.when(pl.col("_end") < _OPEN).then(pl.col("_end")).alias("end"),
    ))


def list_restrictions(hits: pl.DataFrame) -> pl.DataFrame:
    """Restrictions from external list hits (``creditindex.lists.match_entries``):
    ``listed_on`` through ``until`` inclusive; no ``until`` is indefinite; within the
    entry's ``scope`` (empty: every category), for its ``financier``'s projects alone
    when it names one."""
    if hits.height == 0:
        return empty_restrictions()
    scope = (scope_mask_expr("scope").clip(0, ALL).replace(0, ALL)
             if "scope" in hits.columns else pl.lit(ALL))
    financier = (pl.col("financier").str.strip_chars().replace("", None)
                 if "financier" in hits.columns else pl.lit(None, pl.String))
    return _shape(hits.select(
        scope.alias("scope"), financier.alias("financier"),
        "subject_id", pl.lit("list").alias("cause"), pl.col("list").alias("code"),
        pl.col("entry_id").alias("record_id"), pl.col("list").alias("source"),
        pl.format("{} matched by {}: {}", pl.col("list"), pl.col("matched_by"),
                  pl.col("matched_name").fill_null("")).alias("detail"),
        pl.col("listed_on").cast(pl.Int32).alias("start"),
        (pl.col("until").cast(pl.Int32) + 1).alias("end"),
    ))


def manual_restrictions(manual: pl.DataFrame) -> pl.DataFrame:
    """Restrictions entered by staff: ``subject_id, start, until`` (inclusive, null =
    indefinite), ``reason``, optional ``document_no``."""
    if manual.height == 0:
        return empty_restrictions()
    doc = pl.col("document_no") if "document_no" in manual.columns else pl.lit(None, pl.String)
    return _shape(manual.select(
        "subject_id", pl.lit("manual").alias("cause"), pl.lit("manual").alias("code"),
        pl.lit("staff").alias("source"), doc.alias("document_no"),
        pl.col("reason").alias("detail"),
        pl.col("start").cast(pl.Int32).alias("start"),
        (pl.col("until").cast(pl.Int32) + 1).alias("end"),
    ))


def covering(restrictions: pl.DataFrame, day: dt.date | int) -> pl.DataFrame:
    """The restrictions in force on ``day`` (every category and financier: narrow them
    with :func:`applies`)."""
    d = day if isinstance(day, int) else to_day(day)
    return restrictions.filter((pl.col("start") <= d)
                               & (pl.col("end").is_null() | (pl.col("end") > d)))


def restricted_in(in_force: pl.DataFrame, financier: str | None = None) -> pl.DataFrame:
    """Per subject_id, every category restricted by ``in_force`` restrictions (those that
    apply to a question naming ``financier``): ``subject_id, restricted_in`` (the
    categories in their fixed order, ``|``-separated)."""
    masks = in_force.lazy().filter(applies(None, financier)).group_by("subject_id").agg(
        pl.col("scope").cast(pl.Int64).bitwise_or().alias("_mask")).collect()
    return masks.select("subject_id", scope_text_expr(pl.col("_mask")).alias("restricted_in"))


def grounds_text() -> pl.Expr:
    """One readable line per restriction: cause, what, until when."""
    until = pl.when(pl.col("end").is_null()).then(pl.lit("indefinite")).otherwise(
        (pl.col("end") - 1).cast(pl.Date).dt.strftime("%Y-%m-%d"))
    doc = pl.when(pl.col("document_no").is_not_null()).then(
        pl.format(" [{}]", pl.col("document_no"))).otherwise(pl.lit(""))
    scope = pl.when(pl.col("scope") != ALL).then(
        pl.format(" in {}", scope_text_expr(pl.col("scope").cast(pl.Int64)))).otherwise(
        pl.lit(""))
    lender = pl.when(pl.col("financier").is_not_null()).then(
        pl.format(" for {}-financed projects", pl.col("financier"))).otherwise(pl.lit(""))
    return pl.format("{}: {}{} until {}{}{}", pl.col("cause"), pl.col("detail"), doc, until,
                     scope, lender)


# ---------------------------------------------------------------------------------------
# A prebuilt eligibility index: many subjects answered at once
# ---------------------------------------------------------------------------------------

IntArray = npt.NDArray[np.int64]
_ID_SEEDS = (0x1D5EED, 0x2D5EED, 0x3D5EED, 0x4D5EED)


def normalise_ids(subject_ids: Sequence[str] | pl.Series) -> pl.Series:
    """Subject ids as ``check`` reads them: trimmed, upper case."""
    ids = subject_ids if isinstance(subject_ids, pl.Series) else pl.Series(
        list(subject_ids), dtype=pl.String)
    return ids.cast(pl.String).str.strip_chars().str.to_uppercase()


@dataclass(frozen=True)
class EligibilityIndex:
    """Every subject_id's restriction intervals (all causes, every role), merged into
    disjoint runs and laid out sorted by (subject, start): a subject is eligible on a day
    exactly when no run covers it. Answers are binary searches over integer keys, so many
    subjects are checked at once. Built as known on ``known_on``; it answers any day as
    known that day (rebuild it when records, lists or manual entries change)."""

    known_on: int
    ids: pl.Series           # the distinct subject_ids, in the order of their hashes
    hashes: npt.NDArray[np.uint64]  # hash of each id (seed ``seed``), ascending, distinct
    seed: int
    run_key: IntArray        # id position * 2**32 + (run start - origin), ascending
    run_end: IntArray        # first day after each run (``_OPEN`` when indefinite)
    origin: int

    @property
    def runs(self) -> int:
        """The number of merged restriction runs."""
        return int(self.run_key.size)

    @classmethod
    def build(cls, subject_ids: pl.Series, start: IntArray, end: IntArray, known_on: int,
              extra_ids: pl.Series | None = None) -> EligibilityIndex:
        """An index of the intervals ``[start, end)`` of ``subject_ids`` (``end`` at or
        after ``_OPEN``: indefinite); ``extra_ids`` adds subjects without any."""
        parts = [subject_ids.cast(pl.String)]
        if extra_ids is not None:
            parts.append(extra_ids.cast(pl.String))
        seed, ids, hashes = _distinct_ids(pl.concat(parts).drop_nulls())
        begin = np.asarray(start, dtype=np.int64)
        finish = np.minimum(np.asarray(end, dtype=np.int64), _OPEN)
        keep = np.flatnonzero(finish > begin)
        pos = np.searchsorted(hashes, _hash(subject_ids.cast(pl.String), seed))[keep]
        begin, finish = begin[keep], finish[keep]
        origin = int(begin.min()) if begin.size else 0
        order = np.argsort(pos * (1 << 32) + (begin - origin), kind="stable")
        pos, begin, finish = pos[order], begin[order], finish[order]
        if pos.size:
            # merge a subject's intervals that touch or overlap into runs
            new_subject = np.r_[True, pos[1:] != pos[:-1]]
            reach = _running_max_by_group(finish, new_subject)
            new_run = new_subject.copy()
            new_run[1:] |= begin[1:] > reach[:-1]
            first = np.flatnonzero(new_run)
            last = np.r_[first[1:], pos.size] - 1
            pos, begin, finish = pos[first], begin[first], reach[last]
        return cls(known_on=known_on, ids=ids, hashes=hashes, seed=seed,
                   run_key=pos * (1 << 32) + (begin - origin), run_end=finish,
                   origin=origin)

    @classmethod
    def from_restrictions(cls, restrictions: pl.DataFrame, known_on: int,
                          extra_ids: pl.Series | None = None) -> EligibilityIndex:
        """An index of a restrictions frame (:data:`RESTRICTION_SCHEMA`)."""
        return cls.build(
            restrictions.get_column("subject_id"),
            np.asarray(restrictions.get_column("start").cast(pl.Int64).to_numpy(),
                       dtype=np.int64),
            np.asarray(restrictions.get_column("end").cast(pl.Int64).fill_null(_OPEN)
                       .to_numpy(), dtype=np.int64),
            known_on, extra_ids)

    @classmethod
    def of(cls, data: CreditData, known_on: dt.date | int) -> EligibilityIndex:
        """The index of every restriction of ``data`` as known on ``known_on`` (see
        :func:`restriction_intervals`)."""
        k = known_on if isinstance(known_on, int) else to_day(known_on)
        intervals, everyone = restriction_intervals(data, k)
        return cls.build(
            intervals.get_column("subject_id"),
            np.asarray(intervals.get_column("start").to_numpy(), dtype=np.int64),
            np.asarray(intervals.get_column("end").fill_null(_OPEN).to_numpy(),
                       dtype=np.int64),
            k, everyone)

    def positions(self, subject_ids: pl.Series) -> IntArray:
        """Each (normalised) id's position in ``ids``, or -1 for an id not in the index."""
        pos = np.searchsorted(self.hashes, _hash(subject_ids, self.seed))
        pos = np.minimum(pos, max(self.hashes.size - 1, 0))
        if self.hashes.size == 0:
            return np.full(subject_ids.len(), -1, dtype=np.int64)
        same = self.ids.gather(pl.Series(pos)) == subject_ids
        return np.where(np.asarray(same.fill_null(False).to_numpy(), dtype=np.bool_), pos,
                        -1).astype(np.int64)

    def restricted_until(self, subject_ids: Sequence[str] | pl.Series, day: dt.date | int
                         ) -> IntArray:
        """Per subject, the first day it is eligible again counting from ``day``: ``day``
        itself when eligible on ``day``, ``_OPEN`` when restricted indefinitely."""
        d = day if isinstance(day, int) else to_day(day)
        ids = normalise_ids(subject_ids)
        pos = self.positions(ids)
        out = np.full(pos.size, d, dtype=np.int64)
        if self.run_key.size == 0:
            return out
        want = pos * (1 << 32) + (d - self.origin)
        at = np.searchsorted(self.run_key, want, side="right") - 1
        safe = np.maximum(at, 0)
        covered = (pos >= 0) & (at >= 0) & ((self.run_key[safe] >> 32) == pos) & (
            self.run_end[safe] > d) & (d >= self.origin)
        out[covered] = self.run_end[safe[covered]]
        return out

    def eligible(self, subject_ids: Sequence[str] | pl.Series, day: dt.date | int
                 ) -> npt.NDArray[np.bool_]:
        """Per subject, whether it may trade on ``day`` (no restriction covers it)."""
        d = day if isinstance(day, int) else to_day(day)
        out: npt.NDArray[np.bool_] = self.restricted_until(subject_ids, d) == d
        return out


def restriction_intervals(data: CreditData, known_on: dt.date | int,
                          category: str | None = None, financier: str | None = None
                          ) -> tuple[pl.DataFrame, pl.Series]:
    """Every restriction interval of ``data`` as known on ``known_on``, every cause
    (behaviours, restricted grades, expert suspensions, external lists, manual entries)
    that applies to a question naming ``category`` and ``financier`` (see :func:`applies`),
    computed on the engine's arrays: ``subject_id, start, end`` (``end`` exclusive, null
    when indefinite; the same intervals as ``evaluate.restrictions`` without their
    details, a grade's spells possibly split at change points), and every subject_id
    the data knows."""
    k = known_on if isinstance(known_on, int) else to_day(known_on)
    bit = ALL if category is None else category_bit(category)
    found = record_restrictions(data.records, data.rules, k)
    ids = found.codes.keys(data.records).get_column("subject_id")
    bars = found.bars.take(np.flatnonzero((found.bars.scope & bit) != 0))
    rule = data.rules.expert_suspension
    suspended = found.suspensions
    g_code, _, g_start, g_end = found.grades
    all_codes = np.concatenate([bars.code.astype(np.int64), suspended.code, g_code])
    frames = [pl.DataFrame({
        "subject_id": ids.gather(pl.Series(all_codes)) if all_codes.size else ids.clear(),
        "start": np.concatenate([bars.decided.astype(np.int64), suspended.start, g_start]),
        "end": np.concatenate([bars.value.astype(np.int64),
                               suspended.start + (rule.suspend_days if rule else 0), g_end]),
    }, schema={"subject_id": pl.String, "start": pl.Int64, "end": pl.Int64})]
    hits = data.list_hits()
    if hits.height:
        frames.append(list_restrictions(hits).filter(applies(category, financier))
                      .select("subject_id", "start", "end"))
    if data.manual is not None and data.manual.height:
        frames.append(manual_restrictions(data.manual).filter(applies(category, financier))
                      .select("subject_id", "start", "end"))
    intervals = pl.concat(frames, how="vertical_relaxed").with_columns(
        pl.when(pl.col("end") < _OPEN).then(pl.col("end")).alias("end"))
    everyone = [ids]
    if data.subjects is not None:
        everyone.append(data.subjects.get_column("subject_id"))
    return intervals, pl.concat(everyone).unique()


def _hash(ids: pl.Series, seed: int) -> npt.NDArray[np.uint64]:
    return np.asarray(ids.hash(seed).to_numpy(), dtype=np.uint64)


def _distinct_ids(ids: pl.Series) -> tuple[int, pl.Series, npt.NDArray[np.uint64]]:
    """The distinct ``ids`` in the order of their hashes (under the returned seed, which
    gives them distinct hashes) and those hashes: grouped on two hashes, strings only
    compared when the first hash collides."""
    first = _hash(ids, _ID_SEEDS[0])
    code = engine.dense_codes(first, _hash(ids, _ID_SEEDS[1]))
    if code is None:
        distinct = ids.unique()
        seed, hashes = _distinct_hashes(distinct)
        by_hash = np.argsort(hashes, kind="stable")
        return seed, distinct[pl.Series(by_hash)], hashes[by_hash]
    rows = np.zeros(int(code.max()) + 1 if code.size else 0, dtype=np.int64)
    rows[code[::-1]] = np.arange(code.size - 1, -1, -1, dtype=np.int64)
    return _ID_SEEDS[0], ids.gather(pl.Series(rows)), first[rows]


def _distinct_hashes(ids: pl.Series) -> tuple[int, npt.NDArray[np.uint64]]:
    """A seed under which the distinct ``ids`` have distinct hashes, and those hashes."""
    for seed in _ID_SEEDS:
        hashes = _hash(ids, seed)
        if distinct(hashes).size == hashes.size:
            return seed, hashes
    raise ValueError("subject id hashes collide under every seed")  # pragma: no cover


def _running_max_by_group(values: IntArray, new_group: npt.NDArray[np.bool_]) -> IntArray:
    """The running maximum of ``values`` restarting where ``new_group`` is True."""
    group = np.cumsum(new_group) - 1
    # lift each group above every earlier one, so one running maximum serves them all
    low = int(values.min())
    span = int(values.max()) - low + 1
    lifted = group * span + (values - low)
    out: IntArray = np.maximum.accumulate(lifted) - group * span + low
    return out
