"""The daily job's plan (docs/glossary.md, "the daily job"): every day of a run computed in
memory, oldest first, on one consistent view of the store, before anything is written
(:func:`plan_days`; :mod:`creditindex.store.snapshots` stores the days it plans).

The first day evaluated whole (the first run, a new rule set or list import, a day
before the state's) recomputes every subject from its records with its answers ahead
(:func:`_whole`). Otherwise the run starts from the daily state in the store: it reads
the subjects due by its last day and those with new facts, with the spells stored for
them (:mod:`creditindex.store.spells`). The subjects that only take their spells on the
days they are due are planned for all the days at once
(:mod:`creditindex.store.spell_walk`); the others day by day (:func:`_step_due`): the
due ones that have a spell for the day take it, the rest and those with new facts are
recomputed from their records with their answers ahead. Each day keeps the rows to store
(a new or other answer, a decay that starts anew) and leaves decays that go on alone
(:func:`_decays_going_on`): their stored answer, read on a later day, is the fresh one.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

import polars as pl
from sqlalchemy import Connection
from tqdm import tqdm

from creditindex import engine as core
from creditindex.daily import STANDING_COLUMNS, answers_ahead, grounds_expr
from creditindex.days import to_day
from creditindex.evaluate import COMPUTE_COLUMNS, CreditData
from creditindex.rules import RuleSet
from creditindex.store.daily_state import (
    ANSWER_VALUES,
    KEY,
    LEDGER_COLUMNS,
    STATE_SCHEMA,
    Marks,
    StoredState,
    due_state_rows,
    segment_rows,
    subjects_with_new_facts,
)
from creditindex.store.keyed import KeyedRows
from creditindex.store.load import load_from
from creditindex.store.rulesets import PublishedRules
from creditindex.store.spell_walk import Walk, WalkedDay, anchor_of, walk
from creditindex.store.spells import (
    SPELL_LEDGER_SCHEMA,
    SPELL_SCHEMA,
    spell_ledger_of,
    spells_between,
)


def _no_subjects() -> pl.DataFrame:
    """No subject (subject_id, subject_type)."""
    return pl.DataFrame(schema={k: pl.String() for k in KEY})


@dataclass
class Day:
    """One day's work, computed before anything is written: the subjects recomputed
    (their new state rows) and the rows to store (those whose answer changed, and every
    recomputed one that decays or decayed), or the whole answer when the day is stored
    whole; the ledger rows of the recomputed subjects that decay (of every decaying
    subject when whole)."""

    day: dt.date
    rules: PublishedRules
    fresh: pl.DataFrame
    changed: pl.DataFrame
    decay: pl.DataFrame
    whole: pl.DataFrame | None = None
    keeps_state: bool = True
    added: int = 0  # subjects new to the state
    # the subject_ids recomputed from their records (every one when whole) and their
    # new spells with the ledger rows they decay along
    spell_ids: list[str] = field(default_factory=list)
    spells: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SPELL_SCHEMA))
    spell_ledger: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=SPELL_LEDGER_SCHEMA))
    # the subjects (subject_id, subject_type) whose decay starts anew from a spell whose
    # ledger rows are in the store: those rows (still counting after the day) are its
    # decay's, named in the database (:func:`spell_names`)
    spell_decay: pl.DataFrame = field(default_factory=_no_subjects)
    # the subjects (subject_id, subject_type) whose rows of ``fresh`` are their stored
    # spells of the day as they are (answer, next change, decay's end): stored by copying
    # those in the database
    spelled: pl.DataFrame = field(default_factory=_no_subjects)


@dataclass
class Carry:
    """The state carried from one day to the next in memory: the data of the subjects
    that may reach a change point (every subject after a whole evaluation) and their
    state rows."""

    rules: PublishedRules
    data: CreditData
    rows: pl.DataFrame
    new_facts: list[str]
    # the ledger rows stored with the decay runs of the rows that name one (of the run
    # planned for a day of this catch-up, :func:`anchor_of`, for rows that name one):
    # those of the subjects recomputed from their records (a subject that takes a spell
    # needs none, :func:`_decays_going_on`) and those stored during the catch-up
    segments: KeyedRows | None = None
    # the stored ones of the stored state rows of some subject_ids
    segment_loader: Callable[[list[str]], pl.DataFrame] | None = None
    # per subject_id, its rows in ``data.records`` (made when first asked)
    rows_of: pl.DataFrame | None = None
    # the spells of the subjects (SPELL_SCHEMA) and the ledger rows they decay along
    spells: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SPELL_SCHEMA))
    spell_ledger: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=SPELL_LEDGER_SCHEMA))
    # the subject_ids whose records ``data`` holds (None: every subject's) and how to
    # read the others' when one needs them after all
    loaded: set[str] | None = None
    loader: Callable[[list[str]], CreditData] | None = None
    # ``spell_ledger`` by subject (made when first asked, again once it changes)
    spell_index: KeyedRows | None = None
    # ``spells`` by day (made when first asked, again once they change)
    spell_days: dict[dt.date, pl.DataFrame] | None = None
    # the subject_ids recomputed during this catch-up: their spells' ledger rows are in
    # ``spell_ledger``; the others' are read from the store only when needed
    respelled: set[str] = field(default_factory=set)
    # the subjects whose decay run is one of this catch-up's whose ledger rows are their
    # stored spell ledger's (``segments`` holds none for them) and how to read those
    spell_anchored: set[tuple[str, str]] = field(default_factory=set)
    stored_spell_ledger: Callable[[pl.DataFrame], pl.DataFrame] | None = None

    def kept_segments(self, keys: pl.DataFrame) -> pl.DataFrame:
        """The ledger rows of the decay runs of the subjects ``keys`` (each once)."""
        assert self.segments is not None
        anchored = [k for k in keys.iter_rows() if k in self.spell_anchored]
        if not anchored:
            return self.segments.of_subjects(keys)
        assert self.stored_spell_ledger is not None
        spelled = pl.DataFrame(anchored, schema={k: pl.String() for k in KEY}, orient="row")
        return pl.concat([self.segments.of_subjects(keys.join(spelled, on=KEY, how="anti")),
                          self.stored_spell_ledger(spelled).select(list(LEDGER_COLUMNS))])

    def read_segments(self, subject_ids: list[str]) -> None:
        """Add to ``segments`` the stored ledger rows of the decay runs of the subjects
        (subject_id, subject_type) of ``subject_ids`` that have none there yet (their
        decay run is the one stored before the catch-up)."""
        if self.segments is None or self.segment_loader is None or not subject_ids:
            return
        found = self.segment_loader(subject_ids).join(self.segments.where.select(KEY),
                                                      on=KEY, how="anti")
        if found.height:
            self.segments = self.segments.replaced(found)

    def spells_on(self, day: dt.date) -> pl.DataFrame:
        """The spells of ``day`` (:data:`SPELL_SCHEMA`)."""
        if self.spell_days is None:
            self.spell_days = {d: part for (d,), part in self.spells.partition_by(
                "from_day", as_dict=True).items()}
        return self.spell_days.get(day, self.spells.clear())

    def spell_ledger_of(self, keys: pl.DataFrame) -> pl.DataFrame:
        """The spell ledger rows of the subjects ``keys`` (each once)."""
        if self.spell_index is None:
            self.spell_index = KeyedRows.of(self.spell_ledger)
        return self.spell_index.of_subjects(keys)

    def narrowed(self, subject_ids: list[str]) -> CreditData:
        """``data.for_subjects(subject_ids)``, its records gathered by row number
        instead of scanned: a catch-up narrows the same records every day."""
        if self.rows_of is None:
            self.rows_of = self.data.records.select("subject_id").with_row_index(
                "_row").group_by("subject_id").agg("_row")
        wanted = pl.DataFrame({"subject_id": subject_ids}, schema={"subject_id": pl.String})
        rows = wanted.join(self.rows_of, on="subject_id").get_column("_row").explode(
            ).drop_nulls().sort()
        # the rest as for_subjects narrows it (few rows)
        rest = CreditData(records=self.data.records.clear(), rules=self.data.rules,
                          subjects=self.data.subjects, lists=self.data.lists,
                          manual=self.data.manual).for_subjects(subject_ids)
        return CreditData(records=self.data.records[rows], rules=self.data.rules,
                          subjects=rest.subjects, lists=rest.lists, manual=rest.manual)


def _state_rows(ahead: pl.DataFrame) -> pl.DataFrame:
    """State rows (:data:`STATE_SCHEMA`) from answers of :data:`AHEAD_SCHEMA`."""
    return ahead.rename({"index": "credit_index"}).with_columns(
        pl.lit(None, pl.Int64).alias("decay_run_id"),
        pl.lit(None, pl.Int64).alias("answer_run_id")).select(list(STATE_SCHEMA))


def _decay_of(rows: pl.DataFrame, ledger: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """The ledger rows still counting after ``day`` of the state ``rows`` that decay."""
    decaying = rows.filter(pl.col("decays_until").is_not_null()).select(KEY)
    return ledger.filter(pl.col("end") > to_day(day)).join(
        decaying, on=KEY, how="semi").select(list(LEDGER_COLUMNS))


@dataclass(frozen=True)
class _Fresh:
    """Subjects recomputed from their records on a day: their state rows, the ledger
    rows of those that decay, their spells and the ledger rows the spells decay along."""

    rows: pl.DataFrame
    decay: pl.DataFrame
    spells: pl.DataFrame
    spell_ledger: pl.DataFrame


def _recompute(data: CreditData, day: dt.date) -> _Fresh:
    """Every subject of ``data`` recomputed from its records on ``day``, with its answers
    ahead (:func:`creditindex.daily.answers_ahead`)."""
    ahead = answers_ahead(data, day)
    rows = _state_rows(ahead.today)
    spells = ahead.spells.rename({"day": "from_day", "index": "credit_index"}).select(
        list(SPELL_SCHEMA))
    decaying = spells.filter(pl.col("decays_until").is_not_null()).select(KEY).unique()
    return _Fresh(rows, _decay_of(rows, ahead.ledger, day), spells,
                  ahead.ledger.filter(pl.col("end") > to_day(day)).join(
                      decaying, on=KEY, how="semi").select(list(LEDGER_COLUMNS)))


def _from_spells(carry: Carry, ids: list[str], day: dt.date
                 ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, list[str]]:
    """Of the due ``ids``, those whose answer on ``day`` is a spell: their state rows and
    the ledger rows of those that decay (as :func:`_recompute` would give them) when the
    spells were computed in this catch-up, the keys of the others that decay (their
    rows are in the store); and the ids that have none (recomputed from their
    records)."""
    wanted = pl.DataFrame({"subject_id": ids}, schema={"subject_id": pl.String})
    found = carry.spells_on(day).join(wanted, on="subject_id",
                                                                how="semi")
    rows = found.drop("from_day").with_columns(
        pl.lit(None, pl.Int64).alias("decay_run_id"),
        pl.lit(None, pl.Int64).alias("answer_run_id")).select(list(STATE_SCHEMA))
    decaying = rows.filter(pl.col("decays_until").is_not_null()).select(KEY)
    respelled = pl.col("subject_id").is_in(pl.Series(list(carry.respelled),
                                                     dtype=pl.String).implode())
    ledger = list(LEDGER_COLUMNS)
    mine = decaying.filter(respelled) if carry.respelled else decaying.clear()
    decay = carry.spell_ledger_of(mine).filter(pl.col("end") > to_day(day)).select(
        ledger) if mine.height else carry.spell_ledger.select(ledger).clear()
    have = set(found.get_column("subject_id").to_list())
    stored = decaying.filter(~respelled) if carry.respelled else decaying
    return rows, decay, stored, [i for i in ids if i not in have]


def _step(carry: Carry, day: dt.date, walked: Walk | None = None) -> Day:
    """Move ``carry`` to ``day`` (:func:`_step_due`) with what ``walked`` planned for the
    day (its subjects are not in ``carry.rows`` until the walk's last day, when their
    rows after it join them)."""
    done = _step_due(carry, day)
    if walked is None:
        return done
    planned: WalkedDay | None = walked.days.get(day)
    if planned is not None:
        done = replace(done, fresh=pl.concat([done.fresh, planned.fresh]),
                       changed=pl.concat([done.changed, planned.changed]),
                       spell_decay=pl.concat([done.spell_decay, planned.spell_decay]),
                       spelled=pl.concat([done.spelled, planned.spelled]))
        carry.spell_anchored.update(planned.spell_decay.iter_rows())
    if day == walked.until:
        carry.rows = pl.concat([carry.rows, walked.rows], rechunk=True)
    return done


def _step_due(carry: Carry, day: dt.date) -> Day:
    """Move ``carry`` to ``day``: take the spells of the subjects at a change point that
    have one for the day and recompute the others (and, first, those with new facts)
    from their records, with their answers ahead; keep the rows to store. Decaying
    subjects between change points are left alone: their stored answer decays when
    read."""
    rows = carry.rows
    new_facts = carry.new_facts
    recomputed = set(new_facts)
    due = [i for i in dict.fromkeys(rows.get_column("subject_id").filter(
        rows.get_column("next_change") <= day).to_list()) if i not in recomputed]
    carry.new_facts = []
    if not due and not new_facts:
        empty = pl.DataFrame(schema=STATE_SCHEMA)
        return Day(day, carry.rules, empty, empty, pl.DataFrame(schema={
            name: core.LEDGER_SCHEMA[name] for name in LEDGER_COLUMNS}))
    taken, taken_decay, spell_decay, rest = _from_spells(carry, due, day)
    spelled = taken.select(KEY)  # those that are stored spells (not this catch-up's)
    if carry.respelled:
        spelled = spelled.filter(~pl.col("subject_id").is_in(
            pl.Series(list(carry.respelled), dtype=pl.String).implode()))
    ids = list(dict.fromkeys([*new_facts, *rest]))
    parts = [_Fresh(taken, taken_decay, carry.spells.clear(), carry.spell_ledger.clear())]
    if ids:
        here = ids if carry.loaded is None else [i for i in ids if i in carry.loaded]
        missing = [] if carry.loaded is None else [i for i in ids if i not in carry.loaded]
        if here:
            parts.append(_recompute(carry.narrowed(here), day))
        if missing:  # not foreseen when the records were read: read theirs now
            assert carry.loader is not None
            parts.append(_recompute(carry.loader(missing), day))
            carry.read_segments(missing)
        replaced = pl.DataFrame({"subject_id": ids}, schema={"subject_id": pl.String})
        carry.spells = pl.concat([carry.spells.join(replaced, on="subject_id", how="anti"),
                                  *(p.spells for p in parts[1:])])
        carry.spell_ledger = pl.concat([
            carry.spell_ledger.join(replaced, on="subject_id", how="anti"),
            *(p.spell_ledger for p in parts[1:])])
        carry.spell_index = carry.spell_days = None
        carry.respelled.update(ids)
    fresh = pl.concat([p.rows for p in parts])
    decay = pl.concat([p.decay for p in parts])
    # the rows of the subjects of ``fresh`` until now (their keys stay those of fresh)
    renewed = rows.select(pl.struct(KEY).is_in(fresh.select(pl.struct(KEY)).to_series(
        ).implode())).to_series()
    before = rows.filter(renewed)
    going_on = _decays_going_on(carry, fresh, decay, day, taken.select(KEY), before)
    if going_on.height:  # their stored answer, read on this day, is the fresh one
        fresh = pl.concat([fresh.join(going_on, on=KEY, how="anti"),
                           before.join(going_on, on=KEY, how="semi").drop(
                               "next_change", "decays_until").join(
                               fresh.select(*KEY, "next_change", "decays_until"), on=KEY
                           ).select(list(STATE_SCHEMA))])
        if decay.height:
            decay = decay.join(going_on, on=KEY, how="anti")
        spell_decay = spell_decay.join(going_on, on=KEY, how="anti")
        spelled = spelled.join(going_on, on=KEY, how="anti")
    # the rows to store: a new or other answer, a decay that starts anew, or a stored
    # answer that decayed (it ends here); not those whose decay goes on
    seen = fresh.join(before.select(*KEY, pl.col("decays_until").is_not_null().alias(
        "_decayed"), *(pl.col(c).alias(f"_{c}") for c in [*ANSWER_VALUES, "answer_run_id"])),
        on=KEY, how="left", maintain_order="left")
    same = pl.col("_decayed").is_not_null() & pl.all_horizontal(
        pl.col(c).eq_missing(pl.col(f"_{c}")) for c in ANSWER_VALUES)
    stored = ~same | pl.col("decays_until").is_not_null() | pl.col("_decayed").fill_null(False)
    if going_on.height:  # (their row is the one stored before: it names its run)
        stored = stored & ~pl.struct(KEY).is_in(going_on.select(pl.struct(KEY)).to_series(
            ).implode())
    # a row stored this day names the run of the day (:func:`anchor_of`), another the
    # run its same answer was stored with
    fresh = seen.with_columns(pl.when(stored).then(pl.lit(anchor_of(day), pl.Int64))
                              .otherwise(pl.coalesce("answer_run_id", "_answer_run_id"))
                              .alias("answer_run_id")).select(fresh.columns)
    changed = fresh.filter(seen.select(stored).to_series())
    if carry.segments is not None:  # a decay that starts here may go on in later days
        fresh = _anchored(fresh, day)
        if decay.height:
            carry.segments = carry.segments.replaced(decay)
            carry.spell_anchored.difference_update(decay.select(KEY).unique().iter_rows())
        carry.spell_anchored.update(spell_decay.iter_rows())
    # one chunk: the next day's joins go faster
    carry.rows = pl.concat([rows.filter(~renewed), fresh], rechunk=True)
    return Day(day, carry.rules, fresh, changed, decay,
               added=carry.rows.height - rows.height, spell_ids=ids,
               spells=pl.concat([p.spells for p in parts]),
               spell_ledger=pl.concat([p.spell_ledger for p in parts]),
               spell_decay=spell_decay, spelled=spelled)


def _anchored(fresh: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """``fresh`` with every decaying row that names no decay run yet (stored on ``day``,
    with its ledger rows) naming the run of ``day`` (:func:`anchor_of`): on later days
    of the same catch-up its decay may go on (:func:`_decays_going_on`), as it does
    across runs of single days."""
    return fresh.with_columns(
        pl.when(pl.col("decay_run_id").is_null() & pl.col("decays_until").is_not_null())
        .then(pl.lit(anchor_of(day), pl.Int64)).otherwise(pl.col("decay_run_id"))
        .alias("decay_run_id"))


def _decays_going_on(carry: Carry, fresh: pl.DataFrame, decay: pl.DataFrame,
                     day: dt.date, taken: pl.DataFrame, before: pl.DataFrame
                     ) -> pl.DataFrame:
    """The keys of recomputed subjects whose stored decaying answer goes on: it names
    its decay run, decays along the same ledger rows as now, and read on ``day`` is the
    fresh answer (so nothing of theirs need be stored again). A stored answer is read
    on a day by :func:`creditindex.daily.decayed_answer`, which takes from the ledger
    rows everything but what a decay leaves standing
    (:func:`creditindex.daily.standing`), and a fresh decaying answer is that reading
    of itself on its own day (what storing it where its decay starts relies on): with
    the same ledger rows, it is the fresh answer when what stands is the same.

    The ledger rows are compared only for the subjects recomputed from their records:
    those that take a spell (``taken``, keys) decay along the same rows by construction.
    A state row's decay run keeps the ledger of the compilation its subject's spells
    come from, or rows found equal to that ledger when the subject was last recomputed
    (else that day stored its decay anew), each still counting after the later of the
    two days; a spell's ledger rows are that compilation's, still counting after it;
    past both days, the rows still counting on a spell's day are the same. ``before``:
    the state rows of ``carry`` of the subjects of ``fresh``."""
    if carry.segments is None:
        return _no_subjects()
    columns = ["reasons", *STANDING_COLUMNS]
    pair = before.filter(pl.col("decay_run_id").is_not_null()).select(*KEY, *columns).join(
        fresh.filter(pl.col("decays_until").is_not_null()).select(*KEY, *columns), on=KEY,
        suffix="_now").filter(pl.all_horizontal(
            pl.col(c).eq_missing(pl.col(f"{c}_now")) for c in STANDING_COLUMNS))
    # the same reasons give the same grounds: only other reasons are searched for theirs
    other = pair.filter(~pl.col("reasons").eq_missing(pl.col("reasons_now")))
    if other.height:
        moved = other.filter(~grounds_expr(pl.col("reasons")).eq_missing(
            grounds_expr(pl.col("reasons_now"))))
        pair = pair.join(moved.select(KEY), on=KEY, how="anti")
    if not pair.height:
        return pair.select(KEY)
    keys = pair.select(KEY)
    recomputed = keys.join(taken, on=KEY, how="anti")
    if not recomputed.height:
        return keys
    kept = carry.kept_segments(recomputed).filter(pl.col("end") > to_day(day))
    now = decay.join(recomputed, on=KEY, how="semi")
    ledger = list(LEDGER_COLUMNS)
    differ = pl.concat([kept.join(now, on=ledger, how="anti", nulls_equal=True),
                        now.join(kept, on=ledger, how="anti", nulls_equal=True)]).select(KEY)
    return keys.join(differ, on=KEY, how="anti")


def _whole(data: CreditData, rules: PublishedRules, day: dt.date) -> tuple[Day, Carry]:
    """Evaluate every subject on ``day`` from scratch, with its answers ahead."""
    fresh = _recompute(data, day)
    fresh = _Fresh(fresh.rows.with_columns(pl.lit(anchor_of(day), pl.Int64).alias(
        "answer_run_id")), fresh.decay, fresh.spells, fresh.spell_ledger)
    answer = fresh.rows.rename({"credit_index": "index"}).with_columns(
        core.rank_expr().alias("rank")).select(COMPUTE_COLUMNS).sort(
        "subject_type", "rank", "subject_id")
    return (Day(day, rules, fresh.rows, fresh.rows, fresh.decay, whole=answer,
                spells=fresh.spells, spell_ledger=fresh.spell_ledger),
            Carry(rules, data, fresh.rows, [], spells=fresh.spells,
                  spell_ledger=fresh.spell_ledger))


def plan_days(conn: Connection, pending: list[tuple[dt.date, PublishedRules]],
              state: StoredState | None, marks: Marks, progress: bool) -> list[Day]:
    """Compute every pending day (oldest first) on one consistent view of the store."""
    work: list[Day] = []
    carry: Carry | None = None
    walked: Walk | None = None  # the subjects that only take stored spells, planned ahead
    everything: CreditData | None = None
    for at, (day, rules) in enumerate(tqdm(pending, desc="evaluating", unit="day",
                                           file=sys.stderr,
                                           disable=not progress or len(pending) < 2)):
        if carry is not None and carry.rules.content_hash == rules.content_hash:
            work.append(_step(carry, day, walked))
            continue
        usable = (state is not None and state.rules_hash == rules.content_hash
                  and state.day <= day and marks.list_pk == state.marks.list_pk)
        if carry is None and usable:
            assert state is not None
            last = max(d for d, r in pending if r.content_hash == rules.content_hash)
            new_facts = subjects_with_new_facts(conn, state.marks)
            rows = due_state_rows(conn, last, new_facts)
            spells = spells_between(conn, state.day, last)
            walked = walk(rows, spells, _consecutive(pending, at), new_facts)
            walking = pl.col("subject_id").is_in(pl.Series(list(walked.subject_ids),
                                                           dtype=pl.String).implode())
            # the records of the others: those with new facts and those due that reach
            # a day without a spell (or after the days walked)
            needed = list(dict.fromkeys([*new_facts, *rows.filter(~walking).get_column(
                "subject_id").unique(maintain_order=True).to_list()]))
            loader = partial(_load_subjects, conn, rules.rules)
            segments = partial(_stored_segments, conn, rows)
            carry = Carry(rules, loader(needed), rows.filter(~walking), new_facts,
                          KeyedRows.of(segments(needed)), segment_loader=segments,
                          spells=spells, loaded=set(needed), loader=loader,
                          stored_spell_ledger=partial(spell_ledger_of, conn))
            work.append(_step(carry, day, walked))
            continue
        if everything is None:
            everything = load_from(conn, rules.rules)
        data = CreditData(records=everything.records, rules=rules.rules,
                          subjects=everything.subjects, lists=everything.lists,
                          manual=everything.manual)
        done, next_carry = _whole(data, rules, day)
        if state is not None and day < state.day and carry is None:
            done.keeps_state = False  # an earlier day evaluated again: the state stays
        else:
            carry, walked = next_carry, None
        work.append(done)
    return work


def _consecutive(pending: list[tuple[dt.date, PublishedRules]], at: int) -> list[dt.date]:
    """The days of ``pending`` from its ``at``-th on that follow one another, each the day
    after the one before, under the same rules."""
    first, rules = pending[at]
    days = [first]
    for day, other in pending[at + 1:]:
        if other.content_hash != rules.content_hash or day != days[-1] + dt.timedelta(1):
            break
        days.append(day)
    return days


def _load_subjects(conn: Connection, rules: RuleSet, subject_ids: list[str]) -> CreditData:
    return load_from(conn, rules, subject_ids=subject_ids)


def _stored_segments(conn: Connection, rows: pl.DataFrame, subject_ids: list[str]
                     ) -> pl.DataFrame:
    """The ledger rows stored with the decay runs of the stored state ``rows`` of
    ``subject_ids``."""
    wanted = pl.DataFrame({"subject_id": subject_ids}, schema={"subject_id": pl.String})
    return segment_rows(conn, rows.join(wanted, on="subject_id", how="semi"))
