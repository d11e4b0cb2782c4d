"""A catch-up's subjects that only take stored spells, planned in one pass.

Most subjects due during a catch-up are never recomputed: on each of their change
points they take the answer stored ahead for that day (their spell,
:mod:`creditindex.store.spells`), which says when they are due next. The day-by-day
plan (:func:`creditindex.store.day_plan._step_due`) does that for every day in a few dozen
small steps; here it is done for all days at once. The walk follows each subject_id
from change point to change point through its stored spells; a subject_id that on
some day of the walk lacks a spell for one of its roles, or whose spell does not move
it on, is left to the day-by-day plan (it must be recomputed from its records), as
are those with new facts. For the others, every answer the day-by-day plan would give
on each of their days is derived from the pairs of consecutive spells of each role:

- a decay going on (:func:`creditindex.store.day_plan._decays_going_on`): the row
  before names its decay run, the spell decays, and what a decay leaves standing and
  the grounds of the restriction are the same as before. The state row keeps the
  answer before (and its runs) with the spell's next change; nothing is stored. What
  stands before a spell is the previous spell's (a decay goes on only when they are
  the same), so the test needs no answer before it has been decided;
- else the spell is the day's answer: stored (its run named by the day's stand-in,
  :func:`anchor_of`) when it differs from the answer before, decays, or follows a
  decay; a decaying one names the day's run as its decay run.

A row whose decay goes on carries the answer of the last row before it whose decay
did not (or of the state row read from the store), found by carrying a row number
forward; a spell after it is stored whatever its answer (it follows a decay).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

import polars as pl

from creditindex.daily import STANDING_COLUMNS, grounds_expr
from creditindex.days import to_day
from creditindex.store.daily_state import ANSWER_VALUES, KEY, STATE_SCHEMA

_DATE = pl.Date()


def anchor_of(day: dt.date) -> int:
    """A stand-in ``decay_run_id`` for the run ``day`` is stored as, while a catch-up is
    planned (runs get their ids when written): negative, so never a run's id."""
    return -1 - to_day(day)


def _anchor(day: pl.Expr) -> pl.Expr:
    """:func:`anchor_of` of a date column."""
    return (-1 - day.cast(pl.Int32)).cast(pl.Int64)


@dataclass(frozen=True)
class WalkedDay:
    """What the day-by-day plan would give, on one day, for the walked subjects due
    that day: their new state rows (``fresh``, :data:`STATE_SCHEMA`), the rows to store
    (``changed``), the keys of those whose row is their stored spell as it is
    (``spelled``) and of those among them that decay along their spell's stored ledger
    rows (``spell_decay``)."""

    fresh: pl.DataFrame
    changed: pl.DataFrame
    spelled: pl.DataFrame
    spell_decay: pl.DataFrame


@dataclass(frozen=True)
class Walk:
    """The walked subject_ids, what each day gives for them, the last day walked and
    their state rows after it (:data:`STATE_SCHEMA`)."""

    subject_ids: set[str]
    days: dict[dt.date, WalkedDay]
    until: dt.date
    rows: pl.DataFrame


def _events(rows: pl.DataFrame, spells: pl.DataFrame, first: dt.date,
            last: dt.date) -> pl.DataFrame:
    """``subject_id, at``: the days from ``first`` to ``last`` on which each subject_id
    of the state ``rows`` is due, for those that take a spell for every role on each
    of them and are moved on by it (the others left out)."""
    roles = rows.group_by("subject_id").agg(pl.col("next_change").min().alias("at"),
                                            pl.len().alias("_roles"))
    known = spells.join(rows.select(*KEY, pl.lit(True).alias("_in")), on=KEY, how="left")
    ahead = known.group_by("subject_id", "from_day").agg(
        pl.len().alias("_n"), pl.col("_in").is_not_null().all().alias("_known"),
        pl.col("next_change").min().alias("_next"))
    walking = roles.filter(pl.col("at") <= last).with_columns(
        pl.max_horizontal("at", pl.lit(first, _DATE)).alias("at"))
    taken: list[pl.DataFrame] = []
    left: list[pl.DataFrame] = []
    while walking.height:  # each round moves every subject still walking a day on
        at = walking.join(ahead, left_on=["subject_id", "at"],
                          right_on=["subject_id", "from_day"], how="left")
        moves = ((pl.col("_n") == pl.col("_roles")) & pl.col("_known")
                 & (pl.col("_next").is_null() | (pl.col("_next") > pl.col("at")))
                 ).fill_null(False)
        left.append(at.filter(~moves).select("subject_id"))
        good = at.filter(moves)
        taken.append(good.select("subject_id", "at"))
        walking = good.filter(pl.col("_next") <= last).select(
            "subject_id", pl.col("_next").alias("at"), "_roles")
    if not taken:
        return pl.DataFrame(schema={"subject_id": pl.String(), "at": _DATE})
    return pl.concat(taken).join(pl.concat(left), on="subject_id", how="anti")


def _by_day(frame: pl.DataFrame) -> dict[dt.date, pl.DataFrame]:
    """``frame``'s rows by their ``_day`` (the column left out)."""
    return {day: part for (day,), part in frame.partition_by(
        "_day", as_dict=True, include_key=False, maintain_order=True).items()
        if isinstance(day, dt.date)}


def walk(rows: pl.DataFrame, spells: pl.DataFrame, days: list[dt.date],
         exclude: Collection[str]) -> Walk:
    """Plan the consecutive ``days`` for the subject_ids of the state ``rows`` (read from
    the store, :data:`STATE_SCHEMA`) that only take their stored ``spells``
    (:data:`creditindex.store.spells.SPELL_SCHEMA`) on them, but those of ``exclude``
    (with new facts): each day as the day-by-day plan gives it, for them."""
    mine = rows.filter(~pl.col("subject_id").is_in(
        pl.Series(list(exclude), dtype=pl.String).implode()))
    events = _events(mine, spells, days[0], days[-1])
    ids = events.get_column("subject_id").unique()
    before = mine.filter(pl.col("subject_id").is_in(ids.implode())).with_columns(
        pl.lit(None, _DATE).alias("_day"))
    taken = events.join(spells, left_on=["subject_id", "at"],
                        right_on=["subject_id", "from_day"]).with_columns(
        pl.col("at").alias("_day"), pl.lit(None, pl.Int64).alias("decay_run_id"),
        pl.lit(None, pl.Int64).alias("answer_run_id"))
    # each role's block: the state row read from the store, then its spells by day
    both = pl.concat([before.select(*STATE_SCHEMA, "_day"),
                      taken.select(*STATE_SCHEMA, "_day")]).sort(
        [*KEY, "_day"], nulls_last=False).with_row_index("_r")
    initial = pl.col("_day").is_null()
    decays = pl.col("decays_until").is_not_null()
    named = pl.when(initial).then(pl.col("decay_run_id").is_not_null()).otherwise(decays)
    grounds = grounds_expr(pl.col("reasons"))
    going_on = ~initial & named.shift(1) & decays & pl.all_horizontal(
        pl.col(c).eq_missing(pl.col(c).shift(1)) for c in STANDING_COLUMNS
    ) & grounds.eq_missing(grounds.shift(1))
    both = both.with_columns(going_on.fill_null(False).alias("_going_on"))
    # the row whose answer (and decay run) each row carries: its own, or, while a decay
    # goes on, the one before
    source = pl.when(~pl.col("_going_on")).then(pl.col("_r")).forward_fill()
    both = both.with_columns(source.alias("_src"))
    # stored: another answer than the row before's, a decay, or one after a decay (after
    # a decay going on the last, so that row's answer, carried, need not be compared)
    same = pl.all_horizontal(pl.col(c).eq_missing(pl.col(c).shift(1)) for c in ANSWER_VALUES)
    stored = ~initial & ~pl.col("_going_on") & (
        ~same | decays | pl.col("decays_until").shift(1).is_not_null())
    both = both.with_columns(stored.alias("_stored"))
    answer_run = pl.when(initial).then(pl.col("answer_run_id")).otherwise(
        _anchor(pl.col("_day")))
    decay_run = pl.when(initial).then(pl.col("decay_run_id")).when(decays).then(
        _anchor(pl.col("_day")))
    answer_source = pl.when(initial | pl.col("_stored")).then(pl.col("_r")).forward_fill()
    fresh = both.with_columns(
        *(pl.col(c).gather(pl.col("_src")) for c in ANSWER_VALUES),
        decay_run.gather(pl.col("_src")).alias("decay_run_id"),
        answer_run.gather(answer_source).alias("answer_run_id")).filter(~initial)
    state = list(STATE_SCHEMA)
    spelled = fresh.filter(~pl.col("_going_on"))
    rows_of = _by_day(fresh.select(*state, "_day"))
    changed = _by_day(fresh.filter(pl.col("_stored")).with_columns(
        pl.lit(None, pl.Int64).alias("decay_run_id")).select(*state, "_day"))
    spelled_of = _by_day(spelled.select(*KEY, "_day"))
    decaying = _by_day(spelled.filter(decays).select(*KEY, "_day"))
    no_keys = spelled.select(KEY).clear()
    walked = {day: WalkedDay(part, changed.get(day, part.clear()),
                             spelled_of.get(day, no_keys), decaying.get(day, no_keys))
              for day, part in rows_of.items()}
    return Walk(set(ids.to_list()), walked, days[-1],
                fresh.select(state).unique(KEY, keep="last", maintain_order=True))
