"""The daily evaluation job (每日一评): compute every subject's index, grade, rank and
restriction for a day, as known that day, and store it as that day's snapshot, tagged
with the rule set's content hash.

Re-running is harmless: a day already evaluated on the same data is left alone, and a
re-evaluation whose answer is unchanged stores nothing; a different answer (records
arrived since) is stored as a new revision, the earlier one kept as published then.
Days missed since the last evaluated day are caught up, oldest first, each day in its
own transaction.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from typing import Literal

import polars as pl
from sqlalchemy import Connection, func, insert, select
from tqdm import tqdm

from creditindex.evaluate import CreditData, compute
from creditindex.evidence import frame_digest
from creditindex.store import audit
from creditindex.store.db import (
    StoreError,
    bulk_insert,
    get_engine,
    placeholder,
    read_transaction,
    utcnow,
    write_transaction,
)
from creditindex.store.load import load_from, query_frame
from creditindex.store.migrations import ensure_schema
from creditindex.store.models import table
from creditindex.store.rulesets import PublishedRules, all_versions, ensure_published
from creditindex.store.users import STAFF, require_user

MAX_CATCH_UP_DAYS = 366
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
    """The store's data version: the last audit row of anything but evaluations. Every
    change writes one, so an unchanged version means unchanged data."""
    log = table("audit_log")
    found = conn.execute(select(func.max(log.c.id)).where(log.c.action != "evaluate")).scalar()
    return int(found or 0)


def _latest_run(conn: Connection, day: dt.date, rules_hash: str) -> tuple[int, int, int, str
                                                                          ] | None:
    runs = table("evaluation_run")
    row = conn.execute(select(runs.c.id, runs.c.revision, runs.c.data_version, runs.c.digest)
                       .where(runs.c.day == day, runs.c.rules_hash == rules_hash)
                       .order_by(runs.c.revision.desc()).limit(1)).first()
    return None if row is None else (int(row[0]), int(row[1]), int(row[2]), str(row[3]))


def last_evaluated_day(conn: Connection) -> dt.date | None:
    """The latest day with a stored evaluation."""
    runs = table("evaluation_run")
    found = conn.execute(select(func.max(runs.c.day))).scalar()
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


def _store_day(conn: Connection, day: dt.date, rules: PublishedRules, answer: pl.DataFrame,
               digest: str, version: int, actor: str, started: dt.datetime) -> DayResult:
    """Store one day's snapshot on ``conn`` unless the same data or answer is there."""
    runs = table("evaluation_run")
    latest = _latest_run(conn, day, rules.content_hash)
    if latest is not None:
        run_id, revision, seen_version, seen_digest = latest
        if seen_version == version:
            return DayResult(day, "current", run_id, revision, rules.content_hash, 0)
        if seen_digest == digest:
            conn.execute(runs.update().where(runs.c.id == run_id).values(data_version=version))
            return DayResult(day, "unchanged", run_id, revision, rules.content_hash,
                             answer.height)
    revision = 1 if latest is None else latest[1] + 1
    key = conn.execute(insert(runs).values(
        day=day, known_on=day, rules_hash=rules.content_hash, rule_set_id=rules.id,
        revision=revision, data_version=version, digest=digest, n_subjects=answer.height,
        started_at=started, finished_at=utcnow(), by=actor)).inserted_primary_key
    assert key is not None
    run_id = int(key[0])
    bulk_insert(conn, "snapshot_row", answer.rename(_RENAME).select(
        pl.lit(run_id, pl.Int64).alias("run_id"), *SNAPSHOT_COLUMNS))
    audit.record(conn, actor, "evaluate", "evaluation_run", run_id, after={
        "day": day, "known_on": day, "rules_hash": rules.content_hash,
        "rule_set": f"{rules.name} {rules.version}", "revision": revision,
        "n_subjects": answer.height, "digest": digest, "data_version": version})
    return DayResult(day, "stored", run_id, revision, rules.content_hash, answer.height)


def evaluate(url: str | None = None, on: dt.date | None = None, *, user: str | None = None,
             catch_up: bool = True, max_catch_up_days: int = MAX_CATCH_UP_DAYS,
             progress: bool = False) -> list[DayResult]:
    """Evaluate ``on`` (default today) and, with ``catch_up``, every day missed since the
    last evaluated day; store each day's snapshot (see the module docstring). A store
    without a published rule set gets the project's default published first."""
    engine = get_engine(url)
    ensure_schema(engine)
    target = on or dt.date.today()
    with write_transaction(engine, "evaluate") as conn:
        actor = require_user(conn, user, STAFF).name if user else audit.system_actor()
        ensure_published(conn, target, actor)
    with read_transaction(engine) as conn:
        version = data_version(conn)
        versions = all_versions(conn)
        days = days_to_evaluate(last_evaluated_day(conn) if catch_up else None, target,
                                max_catch_up_days)
        results: list[DayResult] = []
        pending: list[tuple[dt.date, PublishedRules]] = []
        for day in days:
            rules = _rules_on(versions, day)
            if rules is None:
                raise StoreError(f"no rule set is in force on {day}")
            latest = _latest_run(conn, day, rules.content_hash)
            if latest is not None and latest[2] == version:  # evaluated on the same data
                results.append(DayResult(day, "current", latest[0], latest[1],
                                         rules.content_hash, 0))
            else:
                pending.append((day, rules))
        base = load_from(conn, versions[-1].rules) if pending else None
    for day, rules in tqdm(pending, desc="evaluating", unit="day", file=sys.stderr,
                           disable=not progress or len(pending) < 2):
        assert base is not None
        started = utcnow()
        data = CreditData(records=base.records, rules=rules.rules, subjects=base.subjects,
                          lists=base.lists, manual=base.manual)
        answer = compute(data, day, known_on=day)
        with write_transaction(engine, "evaluate") as conn:
            results.append(_store_day(conn, day, rules, answer, frame_digest(answer),
                                      version, actor, started))
    return sorted(results, key=lambda r: r.day)


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
    query = select(runs.c.id).where(runs.c.day == day)
    if rules_hash is not None:
        query = query.where(runs.c.rules_hash.startswith(rules_hash))
    if revision is not None:
        query = query.where(runs.c.revision == revision)
    with read_transaction(engine) as conn:
        run_id = conn.execute(query.order_by(runs.c.id.desc()).limit(1)).scalar()
        if run_id is None:
            raise StoreError(f"{day} has not been evaluated (run `creditindex evaluate "
                             f"--on {day}`)")
        frame = query_frame(conn, f"SELECT {', '.join(SNAPSHOT_COLUMNS)} FROM snapshot_row "
                                  f"WHERE run_id = {placeholder(conn)}", SNAPSHOT_SCHEMA,
                            (int(run_id),))
    return frame.with_columns(pl.col("watch", "restricted_in").fill_null("")).sort(
        "subject_type", "rank", "subject_id")


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
