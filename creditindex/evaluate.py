"""What users ask of the engine: a day's scores for everyone, one subject's history,
why a subject has its index, and whether subjects may trade on a day.

Every answer is a view over the engine's array core: the day's facts
(:func:`creditindex.engine.snapshot.day_facts`: deductions, bars and suspensions in
force), the restrictions the records cause
(:func:`creditindex.engine.restrictions.record_restrictions`) and the ledger arrays; the
records' strings are read only for the rows an answer shows. Pure: frames in, frames
out. ``CreditData`` carries everything a question needs.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import polars as pl

from creditindex import engine, restrict
from creditindex.categories import CATEGORIES, scope_text_expr
from creditindex.compact import TEXT_COLUMNS
from creditindex.days import to_date, to_day
from creditindex.engine.arrays import (
    distinct_places,
    lexical_order,
    lexical_positions,
    side_by_side,
    stable_argsort,
)
from creditindex.engine.codes import SubjectCodes, subject_codes
from creditindex.engine.ledger import BehaviourTable, LedgerArrays, RowColumns, compile_ledger
from creditindex.engine.restrictions import Entries, RecordRestrictions, record_restrictions
from creditindex.engine.scoring import points_on
from creditindex.engine.snapshot import (
    day_facts,
    latest_rows,
    pair_facts,
    scores_frame,
)
from creditindex.rules import RuleSet

if TYPE_CHECKING:
    from creditindex.compact import RecordText

COMPUTE_COLUMNS = ["subject_id", "subject_type", "subject_name", "index", "grade", "watch",
                   "rank", "deducted", "restricted", "restricted_in", "reasons"]
EXPLAIN_COLUMNS = ["record_id", "source", "industry", "region", "behaviour_code", "points",
                   "decided_on", "expires_on", "document_no"]
CHECK_COLUMNS = ["subject_id", "subject_name", "eligible", "index", "grade", "watch",
                 "restricted_in", "reasons"]
# The order of a check's grounds: rows equal in all of these keep their input order.
GROUND_ORDER = ("subject_id", "cause", "since", "subject_type", "source", "record_id")
HISTORY_COLUMNS = ["date", "index", "grade", "restricted"]


@dataclass(frozen=True)
class CreditData:
    """Everything the engine reads: records, the rule set and, optionally, subjects
    without records (``subject_id, subject_type, subject_name[, country]``), canonical
    external list entries and manual restrictions."""

    records: pl.DataFrame
    rules: RuleSet
    subjects: pl.DataFrame | None = None
    lists: pl.DataFrame | None = None
    manual: pl.DataFrame | None = None
    # Set when ``records`` is compact (:mod:`creditindex.compact`): where its texts are.
    text: RecordText | None = None
    # The subject codes of ``records`` (:func:`subject_codes`) and its row columns as known
    # on a day (:class:`RowColumns`), when the reader found them.
    codes: SubjectCodes | None = None
    columns: RowColumns | None = None
    _cache: dict[str, pl.DataFrame] = field(default_factory=dict, compare=False, repr=False)

    def for_subjects(self, subject_ids: Sequence[str]) -> CreditData:
        """The same data narrowed to some subject_ids (fast answers for a few subjects)."""
        ids = pl.Series(list(subject_ids), dtype=pl.String).implode()
        keep = pl.col("subject_id").is_in(ids)
        return CreditData(
            records=self.records.filter(keep),
            rules=self.rules,
            subjects=None if self.subjects is None else self.subjects.filter(keep),
            lists=self.lists,
            manual=None if self.manual is None else self.manual.filter(keep),
        )

    def subject_keys(self) -> pl.DataFrame:
        """Every (subject_id, subject_type) in the records or the subjects file."""
        parts = [self.records.select(engine.SUBJECT_KEY)]
        if self.subjects is not None:
            parts.append(self.subjects.select(engine.SUBJECT_KEY))
        return pl.concat(parts).unique()

    def names(self) -> pl.DataFrame:
        """Every name a subject goes by: ``subject_id, subject_type, subject_name, latest``
        (latest: the name of its most recent record, or of the subjects file)."""
        rec = self.records.sort("decided_on", "recorded_on").select(
            *engine.SUBJECT_KEY, "subject_name",
            (pl.int_range(pl.len()) == pl.len() - 1).over(engine.SUBJECT_KEY).alias("latest"))
        parts = [rec]
        if self.subjects is not None and "subject_name" in self.subjects.columns:
            parts.insert(0, self.subjects.select(*engine.SUBJECT_KEY, "subject_name",
                                                 pl.lit(True).alias("latest")))
        return pl.concat(parts, how="vertical_relaxed")

    def list_hits(self) -> pl.DataFrame:
        """External list entries matched to this data's subjects (cached)."""
        if "list_hits" not in self._cache:
            if self.lists is None or self.lists.height == 0:
                from creditindex.lists import MATCH_SCHEMA

                hits = pl.DataFrame(schema=MATCH_SCHEMA)
            else:
                from creditindex.lists import match_entries

                names = self.names().select("subject_id", "subject_name").unique()
                if self.subjects is not None and "country" in self.subjects.columns:
                    names = names.join(self.subjects.select("subject_id", "country").unique(
                        "subject_id"), on="subject_id", how="left")
                # An entry's own subject_id names a subject even when it has no records
                # and is not registered: it is restricted all the same.
                listed = self.lists.select(
                    pl.col("subject_id").str.strip_chars().str.to_uppercase()).drop_nulls()
                names = pl.concat([names, listed.unique().join(
                    names.select("subject_id"), on="subject_id", how="anti")],
                    how="diagonal_relaxed")
                hits = match_entries(self.lists, names)
            self._cache["list_hits"] = hits
        return self._cache["list_hits"]


def _day(d: dt.date | int) -> int:
    return d if isinstance(d, int) else to_day(d)


def restrictions(data: CreditData, known_on: dt.date | int, with_grades: bool = True,
                 found: RecordRestrictions | None = None) -> pl.DataFrame:
    """Every restriction interval of the data's subjects, all causes, as known on
    ``known_on`` (:data:`restrict.RESTRICTION_SCHEMA`): those the records cause, found on
    the engine's arrays (``found``: already found by the caller, grades included), then
    external lists and manual entries."""
    if found is None:
        found = record_restrictions(data.records, data.rules, _day(known_on),
                                    with_grades=with_grades)
    keys = found.codes.keys(data.records)
    parts = [
        restrict.bar_restrictions(data.records, data.rules, found.bars),
        restrict.suspension_restrictions(keys, data.rules, found.table, found.suspensions),
        restrict.list_restrictions(data.list_hits()),
    ]
    if with_grades:
        g_code, g_number, g_start, g_end = found.grades
        parts.append(restrict.grade_restrictions(keys, data.rules, g_number, g_code, g_start,
                                                 g_end))
    if data.manual is not None:
        parts.append(restrict.manual_restrictions(data.manual))
    return pl.concat(parts)


def deduction_reasons(ded: pl.DataFrame) -> pl.DataFrame:
    """Per subject, its deductions of the day as ``CODE -points; ...`` (``_ded_reasons``),
    largest first."""
    return _deduction_reasons(ded)


def reasons_expr(deductions: pl.Expr, grounds: pl.Expr) -> pl.Expr:
    """The ``reasons`` of ``compute``: the day's deductions, then ``restricted:`` and
    the grounds of every restriction in force (either may be null)."""
    return pl.concat_str(deductions, pl.format("restricted: {}", grounds),
                         separator=" | ", ignore_nulls=True).fill_null("")


# One deduction as the reasons show it (worded on every row before grouping: a format
# inside a group_by's aggregation is several times slower).
_DEDUCTION_LINE = pl.format("{} -{}", pl.col("behaviour_code"),
                            engine.round_half_away(pl.col("points"))).alias("_ded_reasons")


def _deduction_reasons(ded: pl.DataFrame) -> pl.DataFrame:
    # Ties broken by every column shown, so that the same day reads the same every time.
    order = ded.sort("points", "behaviour_code", "decided", "source", "record_id",
                     descending=[True, False, False, False, False], maintain_order=True)
    return joined_per(order.select(*engine.SUBJECT_KEY, _DEDUCTION_LINE), engine.SUBJECT_KEY,
                      "_ded_reasons")


def joined_per(frame: pl.DataFrame, key: str | Sequence[str], column: str) -> pl.DataFrame:
    """Per ``key`` (in order of first appearance), the texts of ``column`` joined by
    ``"; "`` in their order (nulls left out). Gathered as a list, then joined: a
    ``str.join`` inside the aggregation is several times slower."""
    return frame.group_by(key, maintain_order=True).agg(pl.col(column)).with_columns(
        pl.col(column).list.join("; "))


_GROUNDS_ORDER = ["cause", "start", "code", "source", "record_id", "document_no", "end",
                  "detail"]


def _restriction_reasons(in_force: pl.DataFrame) -> pl.DataFrame:
    """Per subject_id, the grounds of its restrictions in force (``_restr_reasons``) in
    the order of :data:`_GROUNDS_ORDER`: sorted on the first keys, the rest read only to
    order the few a subject has with the same cause and start. Worded in parts of whole
    subjects (:func:`_restriction_reason_parts`); subjects come in no particular
    order."""
    return pl.concat(side_by_side(_restriction_reason_parts(in_force)))


def _restriction_reason_parts(in_force: pl.DataFrame) -> list[Callable[[], pl.DataFrame]]:
    """:func:`_restriction_reasons` as parts to word (each a frame of whole subjects, by a
    hash of the subject_id: one part's texts are held at a time)."""
    parts = max(1, -(-in_force.height // (_REASON_ROWS // 4)))
    if parts == 1:
        return [lambda: _restriction_reasons_of(in_force)]
    bucket = in_force.get_column("subject_id").hash() % parts

    def part(i: int) -> pl.DataFrame:
        return _restriction_reasons_of(in_force.filter(bucket == i))

    return [functools.partial(part, i) for i in range(parts)]


def _restriction_reasons_of(in_force: pl.DataFrame) -> pl.DataFrame:
    # Worded in the rows' own order; only the words and the subject_id are put in order
    # (not every column of the restrictions).
    first = ["subject_id", "cause", "start"]
    at = in_force.select(pl.arg_sort_by(first)).to_series()
    # Sorted, a row ties with another when it equals the one before or after it.
    same = pl.all_horizontal(pl.int_range(pl.len()) > 0,
                             *(pl.col(c).eq_missing(pl.col(c).shift(1)) for c in first))
    tied = in_force.select(first)[at].select(same | same.shift(-1).fill_null(False)
                                             ).to_series()
    if tied.any():
        rows = at.filter(tied)
        resorted = in_force[rows].with_columns(rows.alias("_at")).sort(
            ["subject_id", *_GROUNDS_ORDER], nulls_last=True, maintain_order=True)
        moved = np.array(at.to_numpy())
        moved[np.flatnonzero(tied.to_numpy())] = resorted.get_column("_at").to_numpy()
        at = pl.Series(moved)
    # (the columns worded in one piece each: polars 2.1 was seen to fail to word columns
    # in different numbers of pieces, as a concatenation of the causes' frames leaves them)
    worded = in_force.select("subject_id", "cause", "detail", "document_no", "end", "scope",
                             "financier").rechunk()
    words = worded.select("subject_id", restrict.grounds_text().alias("_restr_reasons"))
    del worded
    return joined_per(words[at], "subject_id", "_restr_reasons")


def watch_expr(rules: RuleSet, grade: pl.Expr) -> pl.Expr:
    """The watch label of a grade column (empty where the grade has none)."""
    labels = {g.name: g.watch or "" for g in rules.grade}
    return grade.replace_strict(labels, default="", return_dtype=pl.String)


def _grade_bars(scores: pl.DataFrame, rules: RuleSet, start: pl.Expr) -> pl.DataFrame:
    """The bars of grades that restrict (a restriction row per subject whose grade bars
    it, with the grade's basis), starting on ``start``."""
    grade_basis = {g.name: g.basis for g in rules.grade}
    return scores.filter(pl.col("grade_restricted")).select(
        "subject_id", pl.lit("grade").alias("cause"), pl.col("grade").alias("code"),
        "subject_type", pl.format("grade {} as {}", pl.col("grade"), pl.col("subject_type"))
        .alias("detail"), pl.col("grade").replace_strict(grade_basis, default=None,
                                                         return_dtype=pl.String).alias("basis"),
        start.alias("start"))


def compute(data: CreditData, on: dt.date | int, known_on: dt.date | int | None = None,
            category: str | None = None, financier: str | None = None) -> pl.DataFrame:
    """Every subject's index, grade, watch level, rank, deduction and restriction on ``on``
    as known on ``known_on`` (default: ``on``). ``restricted`` answers a question naming
    ``category`` (none: any category) and ``financier``; ``restricted_in`` lists every
    category restricted that day. Columns :data:`COMPUTE_COLUMNS`."""
    return compute_lazy(data, on, known_on, category, financier).collect()


def compute_lazy(data: CreditData, on: dt.date | int, known_on: dt.date | int | None = None,
                 category: str | None = None, financier: str | None = None) -> pl.LazyFrame:
    """:func:`compute`'s answer with its last columns (``watch``, ``restricted``,
    ``reasons``...) still to be made: written by a streaming sink, the texts of the
    ``reasons`` are made a part at a time and never held all at once. Everything else
    is computed (and the records, handed over alone, let go) before it returns."""
    d = _day(on)
    k = d if known_on is None else _day(known_on)
    rules = data.rules
    facts = day_facts(data.records, rules, d, k, codes=data.codes, columns=data.columns)
    bar_at, bar_place = distinct_places(facts.bars.row)
    bar_columns = ["subject_id", "subject_type", "record_id", "source", "behaviour_code",
                   "document_no", "basis"]
    # What the answer shows of the records is gathered now; the texts not held (compact
    # records) are read back from the files once the records are let go. Each subject's
    # key and name are those of its latest row.
    named = [*engine.SUBJECT_KEY, "subject_name"]
    latest, bar_rows = (_held_rows(data, facts.latest_row, named),
                        _held_rows(data, bar_at, bar_columns))
    listed = restrict.covering(restrict.list_restrictions(data.list_hits()), d)
    subjects, manual, text = data.subjects, data.manual, data.text
    # Nothing more is read of the records: a caller that passed them alone lets them go.
    del data
    # the names and the bars' texts: one read of the files for both
    shown, bar_text = _read_back_each(text, [(facts.latest_row, latest, named),
                                             (bar_at, bar_rows, bar_columns)])
    del latest, bar_rows
    scores = _scores(shown.select(engine.SUBJECT_KEY), subjects, rules, facts.deducted,
                     names=shown.get_column("subject_name"))
    del shown
    keys = scores.select(engine.SUBJECT_KEY)
    by_grade = _grade_bars(scores, rules, pl.lit(d, pl.Int32))
    causes = [
        restrict.bar_restrictions(
            bar_text, rules, replace(facts.bars, row=bar_place)),
        restrict.suspension_restrictions(keys, rules, facts.table, facts.suspensions),
        listed,
    ]
    del bar_text, listed
    if manual is not None:
        causes.append(restrict.covering(restrict.manual_restrictions(manual), d))
    counting = _counted_reason_parts(facts.counted, facts.table)
    del facts, keys
    in_force = pl.concat([*causes, restrict._shape(by_grade)])
    del causes, by_grade
    keep = in_force.select(restrict.applies(category, financier)).to_series()
    # (a filter keeping every row would copy them all)
    grounding = _restriction_reason_parts(in_force if keep.all() else in_force.filter(keep))
    # Put in the answer's order (subject_type, rank, subject_id) before the reasons are
    # added: the reasons are aligned to it, and the answer is not sorted (held twice).
    # The reasons' parts, the categories and that order are made side by side, in that
    # order: what a job holds (the day's entries, the restrictions) is let go once it
    # is done, before the last (the order, on all subjects) is well under way.
    n_counted, n_grounds = len(counting), len(grounding)
    jobs: list[Callable[[], pl.DataFrame]] = [
        *counting, *grounding, functools.partial(restrict.restricted_in, in_force, financier),
        functools.partial(_ranks_in_order, scores)]
    del counting, grounding, in_force, keep
    done = side_by_side(jobs)
    counted = _counted_table(done[:n_counted])
    grounds = pl.concat(done[n_counted:n_counted + n_grounds])
    categories, ranked = done[-2], done[-1]
    del done
    scores = scores.with_columns(ranked.get_column("rank"))[ranked.get_column("_at")]
    del ranked
    # Each table of reasons is joined to the keys alone and its column added to the
    # scores: the scores' own columns are not copied once per join.
    out = (
        scores.with_columns(
            *_aligned(scores, counted, "_code"),
            *_aligned(scores, grounds, "subject_id"),
            *_aligned(scores, categories, "subject_id"))
        .lazy().with_columns(
            watch_expr(rules, pl.col("grade")).alias("watch"),
            pl.col("_restr_reasons").is_not_null().alias("restricted"),
            pl.col("restricted_in").fill_null(""),
            reasons_expr(pl.col("_ded_reasons"), pl.col("_restr_reasons")).alias("reasons"),
        ).select(COMPUTE_COLUMNS)
    )
    del scores, counted, grounds, categories
    return out


def _ranks_in_order(scores: pl.DataFrame) -> pl.DataFrame:
    """The ``rank`` of each of ``scores`` and the answer's order of them
    (:func:`answer_order`, column ``_at``)."""
    rank = scores.select(engine.rank_expr().alias("rank")).to_series()
    return pl.DataFrame([rank, pl.Series("_at", answer_order(scores.with_columns(rank)))])


def answer_order(frame: pl.DataFrame) -> npt.NDArray[np.int64]:
    """The rows of ``frame`` in the order of ``frame.sort("subject_type", "rank",
    "subject_id")`` (no nulls; no two rows share subject_type and subject_id), sorted on
    integers: each text's byte order found once (:func:`lexical_positions`)."""
    types = frame.get_column("subject_type")
    kinds = sorted(types.unique().to_list())
    type_no = np.asarray(types.replace_strict(kinds, list(range(len(kinds))),
                                              return_dtype=pl.Int64).to_numpy())
    rank = np.asarray(frame.get_column("rank").to_numpy(), dtype=np.int64)
    return lexical_order(type_no, rank, lexical_positions(frame.get_column("subject_id")))


def _aligned(frame: pl.DataFrame, table: pl.DataFrame, key: str) -> list[pl.Series]:
    """The columns of ``table`` (one row per ``key``) but ``key``, row for row with
    ``frame`` (null where ``table`` has no row)."""
    joined = frame.select(key).join(table, on=key, how="left", maintain_order="left")
    return [joined.get_column(c) for c in table.columns if c != key]


@dataclass(frozen=True)
class Compiled:
    """The records of some data compiled once as known on ``known_on``: their subject
    codes (lexical, as :func:`creditindex.engine.ledger.ledger` numbers them), the rows
    as the ledger reads them, the ledger arrays and the restrictions they cause."""

    known_on: int
    codes: SubjectCodes
    columns: RowColumns
    la: LedgerArrays
    found: RecordRestrictions


def compile_known(data: CreditData, known_on: dt.date | int) -> Compiled:
    """One compilation of ``data``'s records as known on ``known_on`` (for
    :func:`compute_many`, the ledger frame and the change points)."""
    from creditindex.engine.restrictions import joined_restrictions

    k = _day(known_on)
    codes = subject_codes(data.records, lexical=True)
    table = BehaviourTable.of(data.rules)
    columns = RowColumns.of(data.records, table, k)
    la = compile_ledger(data.records, data.rules, k, codes, columns)
    return Compiled(k, codes, columns, la, joined_restrictions(data.records, data.rules, la,
                                                               codes))


MANY_COLUMNS = ["subject_id", "subject_type", "day", "subject_name", "index", "grade",
                "watch", "deducted", "restricted", "restricted_in", "reasons",
                "decays_until"]


def compute_many(data: CreditData, wanted: pl.DataFrame, compiled: Compiled
                 ) -> pl.DataFrame:
    """The answers of ``compute(data, day, known_on=compiled.known_on)`` (no category or
    financier asked) of many subjects on their own days at once: ``wanted`` holds
    ``subject_id, day`` (int days; one row per day asked of a subject_id); every role of
    the subject_id is answered on each of its days. Columns :data:`MANY_COLUMNS` (no
    rank; ``day`` and ``decays_until``, the last day on which a linearly decaying
    deduction counting that day keeps moving the index, as int days, null when none).
    ``compiled``: :func:`compile_known` of ``data`` (on one day ``K``, the answers are
    those known on ``K``: the caller asks only days before facts recorded, revoked or
    repaired after ``K`` become known)."""
    rules = data.rules
    codes, la, found = compiled.codes, compiled.la, compiled.found
    keys = codes.keys(data.records)
    names = _rows_of(data, latest_rows(codes, compiled.columns), ["subject_name"]).to_series()
    if data.subjects is not None:
        keys, names, _ = _with_subjects(keys, names, np.zeros(keys.height), data.subjects)
    days = wanted.select(pl.col("subject_id").cast(pl.String), pl.col("day").cast(pl.Int32)
                         ).unique()
    pairs = keys.with_columns(names.alias("subject_name"),
                              pl.int_range(pl.len(), dtype=pl.Int64).alias("_kc")).join(
        days, on="subject_id").sort("_kc", "day").with_columns(
        pl.format("{}\x1f{}", pl.col("subject_id"), pl.col("day")).alias("_pid"))
    facts = pair_facts(la, found.bars, found.suspensions, rules,
                       np.asarray(pairs.get_column("_kc").to_numpy(), dtype=np.int64),
                       np.asarray(pairs.get_column("day").to_numpy(), dtype=np.int64),
                       keys.height)
    pid = pairs.get_column("_pid")
    scores = scores_frame(pairs.select(pl.col("_pid").alias("subject_id"), "subject_type"),
                          facts.deducted, rules).with_columns(
        pl.int_range(pl.len(), dtype=pl.Int32).alias("_code"),
        pairs.get_column("subject_name"), pairs.get_column("day"))
    by_grade = _grade_bars(scores, rules, pl.col("day"))
    bar_at, bar_place = distinct_places(facts.bars.row)
    bars = restrict.bar_restrictions(
        _rows_of(data, bar_at, ["subject_id", "subject_type", "record_id", "source",
                                "behaviour_code", "document_no", "basis"]),
        rules, replace(facts.bars, row=bar_place)
    ).with_columns(pid.gather(pl.Series(facts.bars.code)).alias("subject_id"))
    ids = pairs.select("subject_id", "day", "_pid").unique("_pid")

    def covering(found_here: pl.DataFrame) -> pl.DataFrame:
        return found_here.join(ids, on="subject_id").filter(
            (pl.col("start") <= pl.col("day"))
            & (pl.col("end").is_null() | (pl.col("end") > pl.col("day")))).with_columns(
            pl.col("_pid").alias("subject_id")).select(found_here.columns)

    causes = [bars,
              restrict.suspension_restrictions(scores.select("subject_id", "subject_type"),
                                               rules, facts.table, facts.suspensions),
              covering(restrict.list_restrictions(data.list_hits()))]
    if data.manual is not None:
        causes.append(covering(restrict.manual_restrictions(data.manual)))
    counted = _counted_reasons(facts.counted, facts.table)
    in_force = pl.concat([*causes, restrict._shape(by_grade)])
    decays = pl.Series("decays_until", facts.decays_until)
    return scores.with_columns(
        *_aligned(scores, counted, "_code"),
        *_aligned(scores, _restriction_reasons(in_force), "subject_id"),
        *_aligned(scores, restrict.restricted_in(in_force), "subject_id"),
        pl.when(decays >= 0).then(decays).cast(pl.Int32).alias("decays_until"),
        pairs.get_column("subject_id").alias("_id"),
    ).with_columns(
        watch_expr(rules, pl.col("grade")).alias("watch"),
        pl.col("_restr_reasons").is_not_null().alias("restricted"),
        pl.col("restricted_in").fill_null(""),
        reasons_expr(pl.col("_ded_reasons"), pl.col("_restr_reasons")).alias("reasons"),
    ).with_columns(pl.col("_id").alias("subject_id")).select(MANY_COLUMNS)


def _rows_of(data: CreditData, rows: npt.NDArray[np.int64], columns: Sequence[str]
             ) -> pl.DataFrame:
    """``columns`` of the records' ``rows`` as text (empty where the records have no
    such column), read back from the files for compact records."""
    return _read_back(data.text, rows, _held_rows(data, rows, columns), columns)


def _held_rows(data: CreditData, rows: npt.NDArray[np.int64], columns: Sequence[str]
               ) -> pl.DataFrame:
    """Those of ``columns`` of the records' ``rows`` that need not be read back from the
    files, as text: the records' own, and empty ones where neither has them (for
    :func:`_read_back`, which reads the others)."""
    records, at = data.records, pl.Series(rows)
    later = data.text is not None
    return pl.DataFrame([
        records.get_column(c).gather(at).cast(pl.String) if c in records.columns
        else pl.repeat(None, len(rows), dtype=pl.String, eager=True).alias(c)
        for c in columns if c in records.columns or not (later and c in TEXT_COLUMNS)])


def _read_back(text: RecordText | None, rows: npt.NDArray[np.int64], held: pl.DataFrame,
               columns: Sequence[str]) -> pl.DataFrame:
    """``columns`` of ``rows``: those ``held`` (:func:`_held_rows`), the others read back
    from the files by ``text``."""
    return _read_back_each(text, [(rows, held, columns)])[0]


def _read_back_each(text: RecordText | None,
                    asks: Sequence[tuple[npt.NDArray[np.int64], pl.DataFrame, Sequence[str]]]
                    ) -> list[pl.DataFrame]:
    """:func:`_read_back` of each ``(rows, held, columns)`` asked, the files read once
    for them all (:meth:`RecordText.gather_each`)."""
    wanted = [[c for c in columns if c not in held.columns] for _, held, columns in asks]
    reading = [(rows, w) for (rows, _, _), w in zip(asks, wanted, strict=True) if w]
    read: Iterator[pl.DataFrame] = iter(())
    if reading:
        assert text is not None  # (only the texts of compact records are left out)
        read = iter(text.gather_each(reading))
    return [(next(read).with_columns(held.get_columns()) if w else held).select(columns)
            for (_, held, columns), w in zip(asks, wanted, strict=True)]


def _scores(keys: pl.DataFrame, subjects: pl.DataFrame | None, rules: RuleSet,
            deducted: npt.NDArray[np.float64], names: pl.Series | None = None
            ) -> pl.DataFrame:
    """Every subject's scores (:func:`engine.snapshot.scores_frame`): those of the
    records' subjects ``keys`` by code (``_code``) with their ``deducted``, then those
    of the ``subjects`` file without records at full marks; with ``subject_name`` when
    ``names`` (per code) are given."""
    with_names = names is not None
    if names is None:
        names = pl.repeat(None, keys.height, dtype=pl.String, eager=True)
    if subjects is not None:
        keys, names, deducted = _with_subjects(keys, names, deducted, subjects)
    scores = scores_frame(keys, deducted, rules).with_columns(
        pl.int_range(pl.len(), dtype=pl.Int32).alias("_code"))
    return scores.with_columns(names.alias("subject_name")) if with_names else scores


def _with_subjects(keys: pl.DataFrame, names: pl.Series, deducted: npt.NDArray[np.float64],
                   subjects: pl.DataFrame
                   ) -> tuple[pl.DataFrame, pl.Series, npt.NDArray[np.float64]]:
    """The subjects of the records followed by those of the subjects file without records
    (at full marks); a name from the subjects file wins over the records'."""
    listed = subjects.select(engine.SUBJECT_KEY).unique(maintain_order=True)
    extra = listed.join(keys, on=engine.SUBJECT_KEY, how="anti", nulls_equal=True)
    all_keys = pl.concat([keys, extra])
    all_names = pl.concat([names, pl.repeat(None, extra.height, dtype=pl.String,
                                            eager=True)]).alias("subject_name")
    if "subject_name" in subjects.columns:
        own = subjects.select(*engine.SUBJECT_KEY, "subject_name").unique(
            engine.SUBJECT_KEY, keep="first", maintain_order=True).with_columns(
            pl.lit(True).alias("_own"))
        joined = all_keys.with_columns(all_names).join(
            own.rename({"subject_name": "_own_name"}), on=engine.SUBJECT_KEY, how="left",
            nulls_equal=True, maintain_order="left")
        all_names = joined.select(pl.when(pl.col("_own")).then(pl.col("_own_name"))
                                  .otherwise(pl.col("subject_name"))).to_series()
    return (all_keys, all_names.alias("subject_name"),
            np.concatenate([deducted, np.zeros(extra.height, dtype=np.float64)]))


def _counted_reasons(counted: Entries, table: BehaviourTable) -> pl.DataFrame:
    """Per subject code (``_code``), the deductions of the day (``_ded_reasons``: entries
    ``counted``, behaviours by ``table``) in the order of :func:`deduction_reasons`,
    worded in parts (:func:`_counted_reason_parts`)."""
    return _counted_table(side_by_side(_counted_reason_parts(counted, table)))


def _counted_table(parts: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """The worded parts of :func:`_counted_reason_parts` as one table."""
    return pl.concat(parts) if parts else pl.DataFrame(
        schema={"_code": pl.Int32, "_ded_reasons": pl.String})


def _counted_reason_parts(counted: Entries, table: BehaviourTable
                          ) -> list[Callable[[], pl.DataFrame]]:
    """:func:`_counted_reasons` as parts to word, in code order: each the entries of
    whole subjects (about :data:`_REASON_ROWS`), sorted on the arrays. Entries equal in
    subject, points, behaviour and decision day read the same (``CODE -points``), so
    their order among themselves (by source and record_id) cannot show and is not
    looked up."""
    names = table.codes
    lexical = np.empty(len(names), dtype=np.int64)
    lexical[np.argsort(np.array(names, dtype=object), kind="stable")] = np.arange(len(names))
    codes = pl.Series(names, dtype=pl.String)
    if counted.size > 1 and bool(np.any(counted.code[1:] < counted.code[:-1])):
        counted = counted.take(stable_argsort(counted.code))  # (day_facts': in code order)
    cuts = np.searchsorted(counted.code, counted.code[::_REASON_ROWS][1:])
    bounds = np.r_[0, cuts, counted.size].astype(np.int64)

    def part(lo: int, hi: int) -> pl.DataFrame:
        code, beh, value = counted.code[lo:hi], counted.beh[lo:hi], counted.value[lo:hi]
        # by subject, largest points first (+ 0.0 makes -0.0 and 0.0 one value), the
        # behaviour codes in byte order, decision day: one stable sort by polars (a dense
        # rank of the points packed with the other keys took twice as long)
        keys = pl.DataFrame({"code": code, "points": -value + 0.0, "beh": lexical[beh],
                             "decided": counted.decided[lo:hi]})
        at = np.asarray(keys.select(pl.arg_sort_by(keys.columns, maintain_order=True))
                        .to_series().to_numpy(), dtype=np.int64)
        del keys
        ded = pl.DataFrame({
            "_code": pl.Series(code[at], dtype=pl.Int32),
            "behaviour_code": codes.gather(pl.Series(beh[at])),
            "points": value[at],
        })
        return joined_per(ded.select("_code", _DEDUCTION_LINE), "_code", "_ded_reasons")

    return [functools.partial(part, int(a), int(b))
            for a, b in itertools.pairwise(bounds) if b > a]


_REASON_ROWS = 1 << 20  # entries worded at a time


def explain(data: CreditData, subject_id: str, on: dt.date | int,
            known_on: dt.date | int | None = None, subject_type: str | None = None
            ) -> pl.DataFrame:
    """Every deduction counted for ``subject_id`` on ``on``: :data:`EXPLAIN_COLUMNS` plus
    ``subject_type``, ``behaviour_name`` and ``factor``. ``points`` is that day's deduction
    after repeat factor and decay; ``expires_on`` the first day without it."""
    d = _day(on)
    k = d if known_on is None else _day(known_on)
    mine = data.for_subjects([subject_id])
    records = mine.records
    if subject_type is not None:
        records = records.filter(pl.col("subject_type") == subject_type)
    ledger = engine.ledger(records, data.rules, k)
    names = pl.DataFrame({"behaviour_code": [b.code for b in data.rules.behaviour],
                          "behaviour_name": [b.name for b in data.rules.behaviour]})
    rows = engine.deductions_on(ledger, d).join(names, on="behaviour_code", how="left")
    return rows.select(
        "record_id", "source", "industry", "region", "behaviour_code",
        engine.round_half_away(pl.col("points")).alias("points"),
        pl.col("decided").cast(pl.Date).alias("decided_on"),
        pl.col("end").cast(pl.Date).alias("expires_on"),
        "document_no", "subject_type", "behaviour_name", "factor",
    ).sort("points", "decided_on", descending=[True, False])


@dataclass(frozen=True)
class CheckResult:
    """An eligibility answer: one row per subject (or one for the consortium) and the
    grounds behind every ineligible answer, with their sources and end dates."""

    table: pl.DataFrame
    grounds: pl.DataFrame
    on: dt.date
    known_on: dt.date


def check(data: CreditData, on: dt.date | int, subject_ids: Sequence[str],
          subject_type: str | None = None, consortium: bool = False,
          known_on: dt.date | int | None = None, category: str | None = None,
          financier: str | None = None) -> CheckResult:
    """Eligibility of ``subject_ids`` on ``on`` (known on ``known_on``) for a question
    naming ``category`` (none: any category) and ``financier``. Eligibility does not
    depend on the role; ``index``/``grade`` are of ``subject_type`` or, without it, the
    lowest over the subject's roles (full marks with no records)."""
    d = _day(on)
    k = d if known_on is None else _day(known_on)
    ids = list(dict.fromkeys(s.strip().upper() for s in subject_ids if s.strip()))
    mine = data.for_subjects(ids)
    wanted = pl.DataFrame({"subject_id": ids}, schema={"subject_id": pl.String})
    facts = day_facts(mine.records, data.rules, d, k, with_restrictions=True)
    scores = _scores(facts.codes.keys(mine.records), mine.subjects, data.rules,
                     facts.deducted)
    if subject_type is not None:
        scores = scores.filter(pl.col("subject_type") == subject_type)
    lowest = scores.sort("index").unique("subject_id", keep="first")
    # Lists are matched against every subject they name by code, asked or not: keep only
    # the asked subjects' grounds (a check must never carry another firm's restriction).
    in_force = restrict.covering(restrictions(mine, k, found=facts.restrictions), d).join(
        wanted, on="subject_id", how="semi")
    grounds = in_force.filter(restrict.applies(category, financier)).with_columns(
        restrict.grounds_text().alias("text"),
        (pl.col("end") - 1).cast(pl.Date).alias("until"),
        pl.col("start").cast(pl.Date).alias("since"),
        scope_text_expr(pl.col("scope").cast(pl.Int64)).alias("scope"),
    ).sort(*GROUND_ORDER, nulls_last=True, maintain_order=True)
    reasons = grounds.group_by("subject_id").agg(pl.col("text").str.join("; ").alias("reasons"))
    names = mine.names().sort("latest", descending=True).unique("subject_id", keep="first"
                                                               ).select("subject_id",
                                                                        "subject_name")
    full = data.rules.base
    table = (
        wanted.join(lowest.select("subject_id", "index", "grade"), on="subject_id", how="left")
        .join(names, on="subject_id", how="left")
        .join(reasons, on="subject_id", how="left")
        .join(restrict.restricted_in(in_force, financier), on="subject_id", how="left")
        .with_columns(
            pl.col("index").fill_null(full),
            pl.col("grade").fill_null(data.rules.grade_of(full).name),
            pl.col("reasons").is_null().alias("eligible"),
            pl.col("reasons").fill_null(""),
            pl.col("restricted_in").fill_null(""),
        )
        .with_columns(watch_expr(data.rules, pl.col("grade")).alias("watch"))
        .select(CHECK_COLUMNS)
    )
    if consortium and table.height:
        table = _consortium_row(table, ids)
    return CheckResult(
        table=table,
        grounds=grounds.select("subject_id", "cause", "code", "subject_type", "record_id",
                               "source", "document_no", "detail", "basis", "scope",
                               "financier", "since", "until", "text"),
        on=to_date(d), known_on=to_date(k))


def _consortium_row(table: pl.DataFrame, ids: Sequence[str]) -> pl.DataFrame:
    """One answer for a consortium (联合体): restricted when any member is, the lowest
    member index; reasons per member."""
    worst = table.sort("index").row(0, named=True)
    member_reasons = table.filter(~pl.col("eligible")).select(
        pl.format("{}: {}", pl.col("subject_id"), pl.col("reasons"))).to_series().to_list()
    categories = {c for v in table.get_column("restricted_in").to_list() for c in v.split("|")
                  if c}
    names = [n for n in table.get_column("subject_name").to_list() if n]
    return pl.DataFrame([{
        "subject_id": "+".join(ids),
        "subject_name": "+".join(names) if names else None,
        "eligible": bool(table.get_column("eligible").all()),
        "index": worst["index"],
        "grade": worst["grade"],
        "watch": worst["watch"],
        "restricted_in": "|".join(c for c in CATEGORIES if c in categories),
        "reasons": " || ".join(member_reasons),
    }], schema=table.schema)


def _days_frame(days: Sequence[int]) -> pl.DataFrame:
    return pl.DataFrame({"day": list(days)}, schema={"day": pl.Int32})


def _evaluate_days(data: CreditData, days: Sequence[int], known_on: int) -> pl.DataFrame:
    """Per day and role, as known on one day: index, grade, restricted (the subject_id's
    restriction, every role and cause), from the ledger arrays."""
    rules, records = data.rules, data.records
    codes = subject_codes(records)
    la = compile_ledger(records, rules, known_on, codes)
    grid = np.asarray(days, dtype=np.int64)
    # a day x entry table: one subject's records over a range of days stay small
    on = (la.decided[None, :] <= grid[:, None]) & (la.end[None, :] > grid[:, None])
    points = points_on(la.amount[None, :], la.nominal_end[None, :], la.days[None, :],
                       la.linear[None, :], grid[:, None])
    deducted = np.zeros((codes.size, grid.size), dtype=np.float64)
    day_at, entry_at = np.nonzero(on)
    np.add.at(deducted, (la.code[entry_at], day_at), points[day_at, entry_at])
    keys = codes.keys(records)
    if data.subjects is not None:
        listed = data.subjects.select(engine.SUBJECT_KEY).unique(maintain_order=True)
        extra = listed.join(keys, on=engine.SUBJECT_KEY, how="anti", nulls_equal=True)
        keys = pl.concat([keys, extra])
        deducted = np.vstack([deducted, np.zeros((extra.height, grid.size))])
    scored = pl.DataFrame({
        "day": np.tile(grid, keys.height).astype(np.int32),
        "deducted": deducted.reshape(-1),
    }).with_columns(keys.select(pl.all().gather(
        pl.Series(np.repeat(np.arange(keys.height), grid.size))))).with_columns(
        engine.index_expr(rules, pl.col("deducted")).alias("index")).with_columns(
        engine.grade_expr(rules, pl.col("index")).alias("grade")).with_columns(
        engine.grade_restricted_expr(rules, pl.col("grade")).alias("grade_restricted"))
    intervals = restrictions(data, known_on, with_grades=False).filter(restrict.applies())
    by_interval = _days_frame(days).join(intervals.select("subject_id", "start", "end"),
                                         how="cross").filter(
        (pl.col("start") <= pl.col("day")) & (pl.col("end").is_null()
                                              | (pl.col("end") > pl.col("day")))
    ).select("subject_id", "day").unique().with_columns(pl.lit(True).alias("_by_interval"))
    return scored.join(by_interval, on=["subject_id", "day"], how="left").with_columns(
        (pl.col("grade_restricted").any().over("subject_id", "day")
         | pl.col("_by_interval").fill_null(False)).alias("restricted"),
    ).drop("_by_interval")


def history(data: CreditData, subject_id: str, start: dt.date | int, end: dt.date | int,
            subject_type: str | None = None, known_on: dt.date | int | None = None
            ) -> pl.DataFrame:
    """One row per day from ``start`` to ``end`` inclusive: :data:`HISTORY_COLUMNS`.

    Without ``known_on`` each day is as known on that day (the index as published then);
    with it, every day as known on ``known_on``. Without ``subject_type``, the lowest
    index over the subject's roles.
    """
    first, last = _day(start), _day(end)
    sid = subject_id.strip().upper()
    mine = data.for_subjects([sid])
    all_days = list(range(first, last + 1))
    if known_on is not None:
        epochs = [(_day(known_on), all_days)]
    else:
        epochs = _knowledge_epochs(mine.records, all_days)
    parts = [_evaluate_days(mine, days, k) for k, days in epochs if days]
    per_role = pl.concat(parts) if parts else pl.DataFrame()
    if per_role.height == 0:
        base = data.rules.base
        return pl.DataFrame({
            "date": [to_date(x) for x in all_days], "index": [base] * len(all_days),
            "grade": [data.rules.grade_of(base).name] * len(all_days),
            "restricted": [False] * len(all_days)})
    if subject_type is not None:
        per_role = per_role.filter(pl.col("subject_type") == subject_type)
    per_day = per_role.sort("index").unique("day", keep="first")
    out = _days_frame(all_days).join(per_day, on="day", how="left").with_columns(
        pl.col("index").fill_null(data.rules.base),
        pl.col("grade").fill_null(data.rules.grade_of(data.rules.base).name),
        pl.col("restricted").fill_null(False),
    )
    return out.sort("day").select(pl.col("day").cast(pl.Date).alias("date"), "index", "grade",
                                  "restricted")


def _knowledge_epochs(records: pl.DataFrame, days: list[int]) -> list[tuple[int, list[int]]]:
    """Split days into runs over which what is known does not change (records arrive,
    are revoked or repaired only on some days); each run is known as of its first day."""
    if not days:
        return []
    changes = pl.concat([
        records.get_column(c).drop_nulls().cast(pl.Int32)
        for c in ("recorded_on", "revoked_on", "repaired_on")
    ]).unique().sort().to_list()
    cuts = sorted({days[0], *(c for c in changes if days[0] < c <= days[-1])})
    epochs = []
    for i, cut in enumerate(cuts):
        stop = cuts[i + 1] if i + 1 < len(cuts) else days[-1] + 1
        epochs.append((cut, list(range(cut, stop))))
    return epochs


def default_history_range(data: CreditData, subject_id: str, today: dt.date
                          ) -> tuple[dt.date, dt.date]:
    """A sensible range for a subject's history: its first decision up to ``today``."""
    decided = data.records.filter(pl.col("subject_id") == subject_id.strip().upper()
                                  ).get_column("decided_on")
    first = decided.min()
    start = first if isinstance(first, dt.date) else today
    return min(start, today), today


def expert_pool(data: CreditData, on: dt.date | int, expert_ids: Sequence[str],
                known_on: dt.date | int | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a pool of experts into those who may be drawn on ``on`` and those left out,
    each left-out expert with every reason (suspension, restriction, list, grade)."""
    result = check(data, on, expert_ids, subject_type="expert", known_on=known_on)
    drawable = result.table.filter(pl.col("eligible")).select("subject_id", "index", "grade")
    left_out = result.table.filter(~pl.col("eligible")).select(
        "subject_id", "index", "grade", "reasons")
    return drawable, left_out
