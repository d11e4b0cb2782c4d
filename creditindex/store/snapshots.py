"""The daily evaluation job (每日一评): compute every subject's index, grade, rank and
restriction for a day, as known that day, and store it as that day's snapshot, tagged
with the rule set's content hash.

Re-running is harmless: a day already evaluated on the same data is left alone, and a
re-evaluation whose answer is unchanged stores nothing; a different answer (records
arrived since) is stored as a new revision, the earlier one kept as published then.
Days missed since the last evaluated day are caught up, oldest first, in one
transaction: each day its own run, the state rows written once at the end, the rows the
days store as changes and their ledger rows inserted together (:class:`_Writes`).

Incremental (docs/glossary.md, "the daily job"): the job keeps its state in the store
(:mod:`creditindex.store.daily_state`): every subject's answer and the next day it may
change (:func:`creditindex.daily.next_change`). A run reads and recomputes only the
subjects due by its last day and those with facts that arrived since the state was
saved, so a day costs a few thousand subjects' work and a month of missed days little
more; every subject is evaluated from scratch only the first time, after a new rule
set or a new list import, or for a day before the state's. A day is stored as the rows
that changed since the previous run (``evaluation_run.parent_run_id``) and read back by
overlaying them on the last run stored whole; every :data:`MAX_CHAIN` runs one is
stored whole again (copied from the state inside the database). A linearly decaying
answer is stored once, where its decay starts, with the ledger rows it decays along
(``decay_ledger``): a later day read through that run derives it
(:func:`creditindex.daily.decayed_answer`), so days on which only decays move store
nothing for them; a decay stored on one day of a catch-up goes on across its later days
as it does across daily runs (the run a day will be stored as is named by a stand-in
while the days are planned: :func:`creditindex.store.spell_walk.anchor_of`). Ranks move
with other subjects' indices, so they are given when a snapshot is read.

A run's days are computed in memory first (:mod:`creditindex.store.day_plan`), then
stored here, oldest first, in one transaction (:func:`_store`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

import polars as pl
from sqlalchemy import Connection, func, select

from creditindex import engine as core
from creditindex.daily import decayed_answer
from creditindex.evidence import frame_digest
from creditindex.rules import RuleSet
from creditindex.store import audit
from creditindex.store.daily_state import (
    ANSWER_COLUMNS,
    KEY,
    STATE_SCHEMA,
    Marks,
    StoredState,
    copy_state_to_run,
    decay_ledger_frame,
    decay_ledger_rows,
    input_marks,
    mark_decay_runs,
    read_state,
    replace_rows,
    save_state,
    write_rows,
)
from creditindex.store.day_plan import Day, plan_days
from creditindex.store.db import (
    StoreError,
    bulk_insert,
    get_engine,
    insert_row,
    placeholder,
    read_transaction,
    table,
    utcnow,
    write_transaction,
)
from creditindex.store.load import query_frame
from creditindex.store.migrations import ensure_schema
from creditindex.store.permissions import Permission
from creditindex.store.rulesets import (
    PublishedRules,
    all_versions,
    ensure_published,
    version_by_id,
)
from creditindex.store.spell_walk import anchor_of
from creditindex.store.spells import (
    SPELL_LEDGER_SCHEMA,
    SPELL_SCHEMA,
    copy_spell_rows,
    replace_spells,
    spell_names,
)
from creditindex.store.state import data_state
from creditindex.store.users import require_user

MAX_CATCH_UP_DAYS = 366
MAX_CHAIN = 60  # runs stored as changes before one is stored whole again
SNAPSHOT_COLUMNS = ["subject_id", "subject_type", "subject_name", "credit_index", "grade",
                    "watch", "type_rank", "deducted", "restricted", "restricted_in",
                    "reasons"]
_RENAME = {"index": "credit_index", "rank": "type_rank"}
Status = Literal["stored", "unchanged", "current"]


@dataclass(frozen=True)
class DayResult:
    """What the job did for one day: ``stored`` a (new revision of the) snapshot, found
    the answer ``unchanged``, or found the day ``current`` (evaluated on the same data)."""

    day: dt.date
    status: Status
    run_id: int
    revision: int
    rules_hash: str
    n_subjects: int


def data_version(conn: Connection) -> int:
    """The store's data version (:func:`creditindex.store.state.data_state`): every change
    to what the engine reads writes an audit row, so an unchanged version means unchanged
    data."""
    return data_state(conn)


Latest = tuple[int, int, int, str]  # a day's latest run: id, revision, data version, digest


def _latest_runs(conn: Connection, days: list[dt.date]) -> dict[tuple[dt.date, str], Latest]:
    """The latest run of each of ``days`` by each rule set (its content hash), in one
    query: a catch-up asks for many days."""
    runs = table("evaluation_run")
    found: dict[tuple[dt.date, str], Latest] = {}
    if not days:
        return found
    for run_id, revision, version, digest, day, rules_hash in conn.execute(select(
            runs.c.id, runs.c.revision, runs.c.data_version, runs.c.digest, runs.c.day,
            runs.c.rules_hash).where(runs.c.day >= min(days), runs.c.day <= max(days))
            .order_by(runs.c.revision)):  # the last of a day's is its latest
        found[(day, str(rules_hash))] = (int(run_id), int(revision), int(version), str(digest))
    return found


def last_evaluated_day(conn: Connection, today: dt.date | None = None) -> dt.date | None:
    """The latest day up to ``today`` with a stored evaluation (a day after today, stored
    before such days were refused, must not stop the catching up)."""
    runs = table("evaluation_run")
    until = today or dt.date.today()
    found = conn.execute(select(func.max(runs.c.day)).where(runs.c.day <= until)).scalar()
    return found if isinstance(found, dt.date) else None


def days_to_evaluate(last: dt.date | None, target: dt.date,
                     max_days: int = MAX_CATCH_UP_DAYS) -> list[dt.date]:
    """``target`` plus the days missed since ``last`` (at most ``max_days`` in all)."""
    if last is None or last >= target:
        return [target]
    first = max(last + dt.timedelta(days=1), target - dt.timedelta(days=max_days - 1))
    return [first + dt.timedelta(days=i) for i in range((target - first).days + 1)]


def _rules_on(versions: list[PublishedRules], day: dt.date) -> PublishedRules | None:
    found = None
    for v in versions:  # sorted by effective date, then id
        if v.effective_from <= day:
            found = v
    return found


def _same_decay(conn: Connection, run_id: int, decay: pl.DataFrame | None) -> bool:
    """Whether run ``run_id`` keeps the same decay ledger rows as ``decay``."""
    stored = decay_ledger_rows(conn, [run_id]).drop("run_id")
    mine = (decay if decay is not None else stored.clear()).select(stored.columns)
    order = [*KEY, "source", "record_id", "decided"]
    return stored.sort(order).equals(mine.sort(order))


@dataclass
class _Writes:
    """Rows whose bulk insert waits, by table: a catch-up inserts the rows its days store
    as changes, and their ledger rows, in one go per table (not one per day)."""

    frames: dict[str, list[pl.DataFrame]] = field(default_factory=dict)
    # the snapshot rows that are stored spells (:meth:`copy`)
    copies: list[pl.DataFrame] = field(default_factory=list)

    def add(self, name: str, frame: pl.DataFrame) -> None:
        """Insert ``frame`` into table ``name`` with the next :meth:`write`."""
        if frame.height:
            self.frames.setdefault(name, []).append(frame)

    def copy(self, run_id: int, day: dt.date, keys: pl.DataFrame) -> None:
        """Store with the next :meth:`write`, as rows of run ``run_id`` (stored as
        changes), the stored spells of ``day`` of the subjects ``keys``, copied in the
        database (:func:`copy_spell_rows`)."""
        if keys.height:
            self.copies.append(keys.select(
                *KEY, pl.lit(day, pl.Date).alias("from_day"),
                pl.lit(run_id, pl.Int64).alias("run_id"),
                pl.lit(0, pl.Int64).alias("type_rank")))

    def write(self, conn: Connection) -> None:
        """Insert the rows waiting (before anything reads them in the database, and
        before the spells they copy are replaced)."""
        for name, frames in self.frames.items():
            bulk_insert(conn, name, pl.concat(frames))
        if self.copies:
            copy_spell_rows(conn, "snapshot_row",  # in key order: the index grows at its end
                            pl.concat(self.copies).sort("run_id", *KEY), ANSWER_COLUMNS)
        self.frames.clear()
        self.copies.clear()


def _store_day(conn: Connection, day: dt.date, rules: PublishedRules,
               answer: pl.DataFrame | None, changed: pl.DataFrame | None,
               decay: pl.DataFrame | None, parent: int | None, version: int, actor: str,
               started: dt.datetime, n_state: int | None = None, mark: bool = True,
               spell_decay: pl.DataFrame | None = None, later: _Writes | None = None,
               latest: Latest | None = None, spelled: pl.DataFrame | None = None,
               unstored: pl.DataFrame | None = None) -> DayResult:
    """Store one day's run on ``conn`` unless the same data or answer is there: the whole
    ``answer`` (ranks included), or the rows ``changed`` since the run ``parent``, or,
    with neither, the whole state (just updated to this day) copied in the database;
    ``decay``: the ledger rows of the decaying answers among the rows stored (none: the
    rows are the day's answers as they stand); ``n_state``: the number of subjects in
    the state when known (else counted in the store); ``mark``: whether state rows in
    the store may lack their decay run (:func:`mark_decay_runs`); ``spell_decay``: the
    decaying answers among the rows stored whose ledger rows are their stored spells'
    (:func:`spell_names`); ``later``: where the rows stored as changes and the ledger
    rows wait to be inserted (none: inserted now); ``latest``: the day's latest run by
    ``rules`` (:func:`_latest_runs`), if any; ``spelled``: the subjects (subject_id,
    subject_type) whose rows of ``changed`` are their stored spells of the day as they
    are (copied from them in the database); ``unstored``: when the state is copied, the
    answers of its rows that name no stored one yet (the day's changes)."""
    runs = table("evaluation_run")
    delta = changed if changed is not None else pl.DataFrame(schema=STATE_SCHEMA)
    digest = frame_digest(answer if answer is not None else delta.select(ANSWER_COLUMNS),
                          key=KEY)  # one row per subject
    n_subjects = answer.height if answer is not None else n_state if n_state is not None \
        else int(conn.execute(select(func.count()).select_from(table("subject_state")))
                 .scalar_one())
    if latest is not None:
        run_id, revision, seen_version, seen_digest = latest
        if seen_version == version:
            return DayResult(day, "current", run_id, revision, rules.content_hash, 0)
        same = (seen_digest == digest and _same_decay(conn, run_id, decay)
                if answer is not None else delta.height == 0 and parent == run_id
                and (unstored is None or unstored.height == 0))
        if same:
            conn.execute(runs.update().where(runs.c.id == run_id).values(data_version=version))
            return DayResult(day, "unchanged", run_id, revision, rules.content_hash,
                             n_subjects)
    revision = 1 if latest is None else latest[1] + 1
    run_id = int(insert_row(conn, "evaluation_run", {  # plain SQL: a catch-up stores many
        "day": day, "known_on": day, "rules_hash": rules.content_hash,
        "rule_set_id": rules.id, "revision": revision, "data_version": version,
        "digest": digest, "n_subjects": n_subjects, "started_at": started,
        "finished_at": utcnow(), "by": actor,
        "parent_run_id": parent if changed is not None else None}, returning="id"))
    run = pl.lit(run_id, pl.Int64).alias("run_id")
    writes = _Writes() if later is None else later
    if decay is not None:
        if decay.height:
            writes.add("decay_ledger", decay_ledger_frame(run_id, decay))
        if spell_decay is not None:
            writes.add("decay_spell", spell_names(run_id, spell_decay, day))
        if mark:
            mark_decay_runs(conn, run_id)
    if answer is not None:
        bulk_insert(conn, "snapshot_row", answer.rename(_RENAME).select(run, *SNAPSHOT_COLUMNS))
    elif changed is not None:  # ranks are given when read (they move with others' indices)
        if spelled is not None and spelled.height:
            writes.copy(run_id, day, delta.select(KEY).join(spelled, on=KEY, how="semi"))
            delta = delta.join(spelled, on=KEY, how="anti")
        writes.add("snapshot_row", delta.select(
            run, *ANSWER_COLUMNS, pl.lit(0, pl.Int64).alias("type_rank")))
    else:
        writes.write(conn)  # the ledger rows of the state's decay runs are copied with it
        copy_state_to_run(conn, run_id, (unstored if unstored is not None
                                          else delta).select(ANSWER_COLUMNS))
    if later is None:
        writes.write(conn)
    audit.record(conn, actor, "evaluate", "evaluation_run", run_id, after={
        "day": day, "known_on": day, "rules_hash": rules.content_hash,
        "rule_set": f"{rules.name} {rules.version}", "revision": revision,
        "n_subjects": n_subjects, "digest": digest, "data_version": version,
        "stored_as": "whole" if changed is None else f"changes since run {parent}"})
    return DayResult(day, "stored", run_id, revision, rules.content_hash, n_subjects)


def _with_runs(rows: pl.DataFrame, runs: dict[int, int], run_id: int | None
               ) -> pl.DataFrame:
    """``rows`` naming real runs (decay runs and answer runs): the stand-ins of the days
    stored so far (:func:`anchor_of`; ``runs``: stand-in to run id) replaced by their
    runs, and the decaying rows that name no decay run naming ``run_id``, the run just
    stored, as :func:`mark_decay_runs` does in the database (``None``: before the day's
    run is stored, its own stand-ins name none, to be named in the database)."""
    def named(column: str) -> pl.Expr:
        if not runs:
            return pl.col(column)
        return pl.col(column).replace(pl.Series(list(runs), dtype=pl.Int64),
                                      pl.Series(list(runs.values()), dtype=pl.Int64))

    if run_id is None:
        return rows.with_columns(pl.when(named(c) >= 0).then(named(c)).alias(c)
                                 for c in ("decay_run_id", "answer_run_id"))
    unnamed = pl.col("decay_run_id").is_null() & pl.col("decays_until").is_not_null()
    return rows.with_columns(pl.when(unnamed).then(pl.lit(run_id, pl.Int64))
                             .otherwise(named("decay_run_id")).alias("decay_run_id"),
                             named("answer_run_id"))


def evaluate(url: str | None = None, on: dt.date | None = None, *, user: str | None = None,
             catch_up: bool = True, max_catch_up_days: int = MAX_CATCH_UP_DAYS,
             progress: bool = False) -> list[DayResult]:
    """Evaluate ``on`` (default today) and, with ``catch_up``, every day missed since the
    last evaluated day; store each day's snapshot (see the module docstring). A store
    without a published rule set gets the project's default published first."""
    engine = get_engine(url)
    ensure_schema(engine)
    today = dt.date.today()
    target = on or today
    if target > today:
        raise StoreError(f"cannot evaluate {target}: it is after today ({today}); the daily "
                         "job stores a day once it has come")
    with write_transaction(engine, "evaluate") as conn:
        actor = require_user(conn, user, Permission.IMPORT).name if user else audit.system_actor()
        ensure_published(conn, target, actor)
    with read_transaction(engine) as conn:
        version = data_version(conn)
        versions = all_versions(conn)
        days = days_to_evaluate(last_evaluated_day(conn) if catch_up else None, target,
                                max_catch_up_days)
        results: list[DayResult] = []
        pending: list[tuple[dt.date, PublishedRules]] = []
        known = _latest_runs(conn, days)
        for day in days:
            rules = _rules_on(versions, day)
            if rules is None:
                raise StoreError(f"no rule set is in force on {day}")
            latest = known.get((day, rules.content_hash))
            if latest is not None and latest[2] == version:  # evaluated on the same data
                results.append(DayResult(day, "current", latest[0], latest[1],
                                         rules.content_hash, 0))
            else:
                pending.append((day, rules))
        if not pending:
            return sorted(results, key=lambda r: r.day)
        marks = input_marks(conn)
        state = read_state(conn)
        work = plan_days(conn, pending, state, marks, progress)
    with write_transaction(engine, "evaluate") as conn:
        if read_state(conn) != state:
            raise StoreError("another evaluation ran meanwhile: run `creditindex evaluate` "
                             "again")
        results += _store(conn, work, state, marks, version, actor)
    return sorted(results, key=lambda r: r.day)


def _store(conn: Connection, work: list[Day], state: StoredState | None, marks: Marks,
           version: int, actor: str) -> list[DayResult]:
    """Write the computed days, oldest first, and move the state to the last one. The
    state rows of days stored as changes are written once, at the end (or before a day
    copied whole from the state), each with the decay run its day gave it."""
    results = []
    parent = state.run_id if state is not None else None
    chain = _chain_length(conn, parent)
    moved = None
    # the state rows of the days stored as changes, not yet written (oldest first; a
    # subject's last is its newest), each naming the runs known when its day was stored
    unwritten: list[pl.DataFrame] = []
    n_state: int | None = None if state is None else int(conn.execute(
        select(func.count()).select_from(table("subject_state"))).scalar_one())
    unmarked = True  # state rows in the store may lack their decay run
    runs: dict[int, int] = {}  # the run of each day stored so far, by its stand-in id
    spell_ids: list[str] = []  # subjects whose spells are replaced at the end
    spells = pl.DataFrame(schema=SPELL_SCHEMA)
    spell_ledger = pl.DataFrame(schema=SPELL_LEDGER_SCHEMA)
    later = _Writes()  # the rows of the days stored as changes, inserted together
    known = _latest_runs(conn, [item.day for item in work])  # (each day is stored once)
    for item in work:
        started = utcnow()
        if not item.keeps_state:
            results.append(_store_day(conn, item.day, item.rules, item.whole, None, None,
                                      None, version, actor, started,
                                      latest=known.get((item.day, item.rules.content_hash))))
            continue
        whole = item.whole is not None or parent is None or chain >= MAX_CHAIN
        if item.whole is not None:
            later.write(conn)  # (the spell ledger rows the runs name are copied first)
            replace_spells(conn, None, item.spells, item.spell_ledger)
            spell_ids, spells, spell_ledger = [], spells.clear(), spell_ledger.clear()
        elif item.spell_ids:
            gone = pl.DataFrame({"subject_id": item.spell_ids},
                                schema={"subject_id": pl.String})
            spell_ids = list(dict.fromkeys([*spell_ids, *item.spell_ids]))
            spells = pl.concat([spells.join(gone, on="subject_id", how="anti"), item.spells])
            spell_ledger = pl.concat([spell_ledger.join(gone, on="subject_id", how="anti"),
                                      item.spell_ledger])
        if item.whole is not None:  # the state is written once the run is stored
            unwritten, n_state, unmarked = [], item.fresh.height, False
        else:
            unwritten.append(item.fresh)
            n_state = None if n_state is None else n_state + item.added
        mine = unwritten[-1] if unwritten else None
        if whole and item.whole is None:  # copied from the state in the database
            write_rows(conn, _with_runs(_newest(unwritten), runs, None))
            unwritten, unmarked = [], True
        result = _store_day(conn, item.day, item.rules, item.whole,
                            None if whole else item.changed, item.decay, parent, version,
                            actor, started, None if whole else n_state, mark=unmarked,
                            spell_decay=item.spell_decay, later=later,
                            latest=known.get((item.day, item.rules.content_hash)),
                            spelled=item.spelled,
                            unstored=item.changed if whole and item.whole is None else None)
        if result.status != "stored" and unmarked:  # the same answers found stored there
            mark_decay_runs(conn, result.run_id)
        unmarked = False
        runs[anchor_of(item.day)] = result.run_id
        if item.whole is not None:
            replace_rows(conn, _with_runs(item.fresh, runs, result.run_id))
        if unwritten and unwritten[-1] is mine:  # earlier days' rows name their runs
            unwritten[-1] = _with_runs(mine, runs, result.run_id)
        if result.status == "stored":
            parent, chain = result.run_id, (0 if whole else chain + 1)
        moved = (result.run_id, item.day, item.rules.content_hash)
        results.append(result)
    later.write(conn)
    write_rows(conn, _newest(unwritten))
    if spell_ids:
        replace_spells(conn, spell_ids, spells, spell_ledger)
    if moved is not None:
        save_state(conn, *moved, marks)
    return results


def _newest(rows: list[pl.DataFrame]) -> pl.DataFrame:
    """Each subject's last row of ``rows`` (state rows, oldest first)."""
    if not rows:
        return pl.DataFrame(schema=STATE_SCHEMA)
    return pl.concat(rows).unique(KEY, keep="last", maintain_order=True)


def _chain_length(conn: Connection, run_id: int | None) -> int:
    """How many runs stored as changes lead from ``run_id`` back to one stored whole."""
    return len(run_chain(conn, run_id)) - 1 if run_id is not None else 0


def run_chain(conn: Connection, run_id: int) -> list[int]:
    """``run_id`` and its parents, back to the run stored whole (newest first)."""
    runs = table("evaluation_run")
    parents = {int(r[0]): r[1] for r in conn.execute(select(runs.c.id, runs.c.parent_run_id))}
    chain = [run_id]
    while parents.get(chain[-1]) is not None:
        chain.append(int(parents[chain[-1]]))
    return chain


SNAPSHOT_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(), "subject_type": pl.String(), "subject_name": pl.String(),
    "index": pl.Float64(), "grade": pl.String(), "watch": pl.String(), "rank": pl.Int64(),
    "deducted": pl.Float64(), "restricted": pl.Boolean(), "restricted_in": pl.String(),
    "reasons": pl.String(),
}


def stored_snapshot(url: str | None, day: dt.date, rules_hash: str | None = None,
                    revision: int | None = None) -> pl.DataFrame:
    """A stored day's snapshot (the columns of ``compute``), as published: the latest
    revision of the latest evaluation of ``day`` unless ``rules_hash``/``revision``
    pick another. Raises :class:`StoreError` when the day was never evaluated."""
    engine = get_engine(url)
    ensure_schema(engine)
    runs = table("evaluation_run")
    query = select(runs.c.id, runs.c.rule_set_id).where(runs.c.day == day)
    if rules_hash is not None:
        query = query.where(runs.c.rules_hash.startswith(rules_hash))
    if revision is not None:
        query = query.where(runs.c.revision == revision)
    with read_transaction(engine) as conn:
        found = conn.execute(query.order_by(runs.c.id.desc()).limit(1)).first()
        if found is None:
            raise StoreError(f"{day} has not been evaluated (run `creditindex evaluate "
                             f"--on {day}`)")
        chain = run_chain(conn, int(found[0]))
        p = placeholder(conn)
        frame = query_frame(
            conn, f"SELECT run_id, {', '.join(SNAPSHOT_COLUMNS)} FROM snapshot_row "
                  f"WHERE run_id IN ({', '.join([p] * len(chain))})",
            {"run_id": pl.Int64(), **SNAPSHOT_SCHEMA}, tuple(chain))
        decay = decay_ledger_rows(conn, chain)
        rules = version_by_id(conn, int(found[1])).rules if decay.height else None
    newest_first = pl.DataFrame({"run_id": chain, "_age": range(len(chain))},
                                schema={"run_id": pl.Int64, "_age": pl.Int64})
    frame = frame.join(newest_first, on="run_id").sort("_age").unique(
        KEY, keep="first").drop("_age")
    if rules is not None:
        frame = decayed_on(frame, decay, rules, day)
    return frame.drop("run_id").with_columns(
        core.rank_expr().alias("rank"), pl.col("watch", "restricted_in").fill_null("")
    ).sort("subject_type", "rank", "subject_id")


def decayed_on(frame: pl.DataFrame, decay: pl.DataFrame, rules: RuleSet, day: dt.date
                ) -> pl.DataFrame:
    """``frame`` (stored rows with their ``run_id``) with every answer stored where its
    decay starts replaced by its answer on ``day``, derived from the ledger rows kept
    with that run."""
    on = ["run_id", *KEY]
    ledger = decay.join(frame.select(on), on=on, how="semi")
    starts = frame.join(ledger.select(on).unique(), on=on, how="semi")
    if not starts.height:
        return frame
    moved = decayed_answer(starts, ledger.drop("run_id"), rules, day)
    return pl.concat([frame.join(starts.select(KEY), on=KEY, how="anti"),
                      starts.select("run_id", *KEY, "rank").join(moved, on=KEY)
                      .select(frame.columns)])


def list_runs(url: str | None = None) -> pl.DataFrame:
    """Every stored evaluation, newest first."""
    engine = get_engine(url)
    ensure_schema(engine)
    runs = table("evaluation_run")
    cols = ["id", "day", "known_on", "rules_hash", "revision", "n_subjects", "digest",
            "finished_at", "by"]
    with read_transaction(engine) as conn:
        rows = conn.execute(select(*(runs.c[c] for c in cols)).order_by(
            runs.c.day.desc(), runs.c.id.desc())).all()
    return pl.DataFrame([tuple(r) for r in rows], schema={
        "id": pl.Int64, "day": pl.Date, "known_on": pl.Date, "rules_hash": pl.String,
        "revision": pl.Int64, "n_subjects": pl.Int64, "digest": pl.String,
        "finished_at": pl.Datetime("us"), "by": pl.String}, orient="row")
