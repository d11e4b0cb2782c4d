"""Imports into the store: penalty records (with a subjects file) and external list
entries. Each import is checked whole first (every problem of every file is reported
and nothing is imported), then written in one transaction: a process killed half-way
leaves the store as it was. Importing the same files again adds nothing.

Records are keyed by (source, record_id) and never changed: a later copy that only fills
in ``revoked_on`` or ``repaired_on`` becomes a ``revoked`` or ``repair_granted`` event
dated that day; any other difference from the stored copy is a conflict (bad input).
Bulk changes are audited per import batch; every row they add carries the batch id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, func, insert, select, text

from creditindex import records
from creditindex.errors import InputError, Problem, Reason
from creditindex.lists import LIST_SCHEMA, read_list_entries
from creditindex.reason_exprs import as_reason, reason_expr
from creditindex.records import RECORD_SCHEMA, read_records, read_table
from creditindex.store import audit
from creditindex.store.db import (
    FIELD_SEPARATOR,
    bulk_insert,
    drop_temp,
    fetch_packed,
    get_engine,
    read_transaction,
    table,
    temp_table,
    utcnow,
    write_transaction,
)
from creditindex.store.load import EVENT_SCHEMA, apply_events, query_frame, unpack
from creditindex.store.migrations import ensure_schema
from creditindex.store.permissions import Permission
from creditindex.store.rulesets import rules_for
from creditindex.store.users import require_user
from creditindex.text_limits import LIST_TEXT, RECORD_TEXT, SUBJECT_TEXT

KEY = ["source", "record_id"]
# Record columns compared with the stored copy (the rest may only be filled in).
FIXED = [c for c in RECORD_SCHEMA if c not in (*KEY, "revoked_on", "repaired_on")]
FILL_IN = {"revoked_on": "revoked", "repaired_on": "repair_granted"}  # column: event
RECORD_COLUMNS = [*RECORD_SCHEMA, "import_id"]


@dataclass(frozen=True)
class ImportResult:
    """What an import did. ``import_id`` is ``None`` when it found nothing new."""

    import_id: int | None
    rows: int                 # distinct records (or entries, subjects) read
    added: int                # new rows stored
    events: int = 0           # revocations / repairs filled in by the files
    changed: int = 0          # subjects or list entries updated
    subjects_added: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0        # records or entries read that were stored as they are


class _NothingNew(Exception):
    """Raised inside the transaction to roll it back when an import adds nothing."""


def file_info(path: str | Path) -> dict[str, Any]:
    """Name, size and sha256 of an imported file (kept with the import batch)."""
    p = Path(path)
    digest = hashlib.sha256()
    with p.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"file": str(p), "bytes": p.stat().st_size, "sha256": digest.hexdigest()}


def _actor(conn: Connection, user: str | None) -> str:
    return require_user(conn, user, Permission.IMPORT).name if user else audit.system_actor()


def _new_batch(conn: Connection, kind: str, actor: str, files: list[dict[str, Any]],
               rules_hash: str | None = None) -> int:
    key = conn.execute(insert(table("import_batch")).values(
        kind=kind, at=utcnow(), by=actor, files=audit.jsonable(files), rules_hash=rules_hash,
        added=0, changed=0, events=0)).inserted_primary_key
    assert key is not None
    return int(key[0])


def _finish_batch(conn: Connection, batch: int, actor: str, action: str,
                  result: ImportResult) -> None:
    batches = table("import_batch")
    conn.execute(batches.update().where(batches.c.id == batch).values(
        added=result.added + result.subjects_added, changed=result.changed,
        events=result.events))
    audit.record(conn, actor, action, "import_batch", batch, after={
        "files": result.files, "rows": result.rows, "added": result.added,
        "events": result.events, "changed": result.changed,
        "subjects_added": result.subjects_added})


def _too_long(frame: pl.DataFrame, limits: dict[str, int]) -> pl.DataFrame:
    """Rows with a value longer than its column holds: key columns + column + length."""
    parts = [
        frame.filter(pl.col(c).str.len_chars() > n).select(
            *KEY, pl.lit(c).alias("column"), pl.col(c).str.len_chars().alias("length"),
            pl.lit(n).alias("limit"))
        for c, n in limits.items() if c in frame.columns
    ]
    return pl.concat(parts) if parts else pl.DataFrame()


def _locate(paths: Sequence[str | Path], keys: set[tuple[str, str]]
            ) -> dict[tuple[str, str], tuple[str, int]]:
    """Where each (source, record_id) first appears: file and spreadsheet row. Only used
    to word errors, so it reads the files again."""
    found: dict[tuple[str, str], tuple[str, int]] = {}
    for path in paths:
        raw = read_table(path)
        if not set(KEY) <= set(raw.columns):
            continue
        rows = raw.select(*KEY).with_row_index("_i").filter(
            pl.struct(*KEY).is_in(pl.DataFrame(list(keys), schema=KEY, orient="row")
                                  .to_struct().implode()))
        for i, source, record_id in rows.iter_rows():
            found.setdefault((source, record_id), (str(path), int(i) + 2))
    return found


def _problems(paths: Sequence[str | Path], rows: list[tuple[str, str, str, str]]
              ) -> list[Problem]:
    """Problems (source, record_id, column, reason) worded with file and row."""
    where = _locate(paths, {(s, r) for s, r, _, _ in rows})
    out = []
    for source, record_id, column, reason in rows:
        file, row = where.get((source, record_id), (", ".join(map(str, paths)), None))
        out.append(Problem(file, row, column, reason))
    return out


def _temp_keys(conn: Connection, frame: pl.DataFrame) -> str:
    """A temporary table of the frame's (source, record_id) keys; returns its name."""
    return temp_table(conn, frame.select(KEY), {
        "source": f"varchar({RECORD_TEXT['source']})",
        "record_id": f"varchar({RECORD_TEXT['record_id']})"}, key=KEY)


STORED_SCHEMA: dict[str, pl.DataType] = {"id": pl.Int64(), **RECORD_SCHEMA,
                                         "import_id": pl.Int64()}


def stored_copies(conn: Connection, frame: pl.DataFrame) -> pl.DataFrame:
    """The stored records with the same (source, record_id) as rows of ``frame``, with
    their ``id``, ``import_id`` and effective ``revoked_on``/``repaired_on`` (the value
    first imported, or the earliest event)."""
    tmp = _temp_keys(conn, frame)
    keys = f"JOIN {tmp} k ON p.source = k.source AND p.record_id = k.record_id"
    try:
        stored = unpack(fetch_packed(conn, [f"p.{c}" for c in STORED_SCHEMA],
                                     f"FROM penalty_record p {keys}"), STORED_SCHEMA)
        events = query_frame(
            conn, "SELECT e.record_pk, e.kind, e.effective_on FROM record_event e JOIN "
                  f"penalty_record p ON p.id = e.record_pk {keys} "
                  "WHERE e.kind IN ('revoked', 'repair_granted')", EVENT_SCHEMA)
    finally:
        drop_temp(conn, tmp)
    return apply_events(stored, events)


def _compare(frame: pl.DataFrame, stored: pl.DataFrame
             ) -> tuple[list[tuple[str, str, str, str]], pl.DataFrame]:
    """Conflicts between file and store (source, record_id, column, reason) and the
    fill-in events (``record_pk, kind, effective_on``)."""
    both = frame.join(stored, on=KEY, suffix="_stored")
    conflicts: list[tuple[str, str, str, str]] = []

    def text(c: str) -> pl.Expr:
        return pl.col(c).cast(pl.String).fill_null("(empty)")

    for c in [*FIXED, *FILL_IN]:
        differs = pl.col(c).ne_missing(pl.col(f"{c}_stored"))
        if c in FILL_IN:
            differs = differs & pl.col(c).is_not_null() & pl.col(f"{c}_stored").is_not_null()
        bad = both.filter(differs).select(
            *KEY, pl.format("conflicts with the stored copy of this record (import #{}): "
                            f"{c} {{}} != {{}}", pl.col("import_id"), text(c),
                            text(f"{c}_stored")).alias("reason"))
        conflicts += [(s, r, c, why) for s, r, why in bad.iter_rows()]
    events = pl.concat([
        both.filter(pl.col(c).is_not_null() & pl.col(f"{c}_stored").is_null()).select(
            pl.col("id").alias("record_pk"), pl.lit(kind).alias("kind"),
            pl.col(c).alias("effective_on"))
        for c, kind in FILL_IN.items()
    ])
    return conflicts, events


def _check_text(frame: pl.DataFrame, paths: Sequence[str | Path]) -> None:
    """Refuse values longer than their column, or holding NUL or the store's field
    separator (control characters no real value has)."""
    found: list[tuple[Any, Any, str, str]] = [
        (s, r, c, Reason(f"too long: {n} characters (at most {lim})", "problem.too_long_n",
                         n=n, max=lim))
        for s, r, c, n, lim in _too_long(frame, RECORD_TEXT).iter_rows()]
    for c in RECORD_TEXT:
        bad = frame.filter(pl.col(c).str.contains(f"[\x00{FIELD_SEPARATOR}]"))
        found += [(s, r, c, "contains a control character (\\x00 or \\x1f)")
                  for s, r in bad.select(*KEY).iter_rows()]
    if found:
        raise InputError(_problems(paths, found))


def read_subjects(path: str | Path) -> pl.DataFrame:
    """A subjects file checked as :func:`creditindex.records.read_subjects` does, and also
    for what the store needs: each subject once, names that fit."""
    frame = records.read_subjects(path).with_row_index("_i")
    if "country" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("country"))
    key = ["subject_id", "subject_type"]
    first_row = pl.col("_i").first().over(key) + 2
    limit, country_limit = SUBJECT_TEXT["subject_name"], SUBJECT_TEXT["country"]
    found = frame.select(
        (pl.col("_i") + 2).alias("_row"),
        pl.when(pl.col("_i") + 2 != first_row).then(
            pl.format("the subject appears again (first in row {})", first_row))
        .alias("subject_id"),
        pl.when(pl.col("subject_name").str.len_chars() > limit).then(
            reason_expr("problem.too_long", f"too long (at most {limit} characters)",
                        max=str(limit))).alias("subject_name"),
        pl.when(pl.col("country").str.len_chars() > country_limit).then(
            reason_expr("problem.too_long", f"too long (at most {country_limit} characters)",
                        max=str(country_limit))).alias("country"),
    )
    problems = [Problem(str(path), row, column, as_reason(why))
                for column in ("subject_id", "subject_name", "country")
                for row, why in found.select("_row", column).drop_nulls().iter_rows()]
    if problems:
        raise InputError(problems)
    return frame.select("subject_id", "subject_type", "subject_name", "country")


def _import_subjects(conn: Connection, subjects: pl.DataFrame, batch: int, actor: str
                     ) -> tuple[int, int]:
    """Register subjects: new ones inserted, changed names/countries updated (each
    change audited with before and after). Returns (added, changed)."""
    t = table("subject")
    stored = query_frame(conn, "SELECT subject_id, subject_type, subject_name, country "
                               "FROM subject", dict.fromkeys(
                                   ("subject_id", "subject_type", "subject_name", "country"),
                                   pl.String()))
    both = subjects.join(stored, on=["subject_id", "subject_type"], how="left",
                         suffix="_stored", nulls_equal=True)
    new = both.filter(pl.col("subject_name_stored").is_null()).select(
        "subject_id", "subject_type", "subject_name", "country",
        pl.lit(batch, pl.Int64).alias("import_id"))
    bulk_insert(conn, "subject", new)
    changed = both.filter(pl.col("subject_name_stored").is_not_null() & (
        pl.col("subject_name").ne_missing(pl.col("subject_name_stored"))
        | pl.col("country").ne_missing(pl.col("country_stored"))))
    for row in changed.iter_rows(named=True):
        key = {"subject_id": row["subject_id"], "subject_type": row["subject_type"]}
        conn.execute(t.update().where(t.c.subject_id == row["subject_id"],
                                      t.c.subject_type == row["subject_type"]).values(
            subject_name=row["subject_name"], country=row["country"], import_id=batch))
        audit.record(conn, actor, "subject.update", "subject",
                     f"{row['subject_id']}/{row['subject_type']}",
                     before={**key, "subject_name": row["subject_name_stored"],
                             "country": row["country_stored"]},
                     after={**key, "subject_name": row["subject_name"],
                            "country": row["country"], "import_id": batch})
    return new.height, changed.height


def import_records(url: str | None, paths: Sequence[str | Path], *,
                   subjects_path: str | Path | None = None, user: str | None = None,
                   rules_path: str | Path | None = None, today: dt.date | None = None,
                   progress: bool = False) -> ImportResult:
    """Import record files (and a subjects file) into the store in one transaction.

    Every row is checked first against the rule set in force (or ``rules_path``); any
    problem raises :class:`InputError` listing all of them and nothing is imported.
    Records already stored are skipped; copies that only fill in ``revoked_on`` or
    ``repaired_on`` become dated events; other differences are conflicts. ``user`` (a
    staff member) is named in the audit log; without it, the system actor is.
    """
    engine = get_engine(url)
    ensure_schema(engine)
    day = today or dt.date.today()
    with read_transaction(engine) as conn:
        rules = rules_for(conn, rules_path, day)
    frame = read_records(list(paths), rules, today=day) if paths else None
    if frame is not None:
        _check_text(frame, paths)
        frame = frame.sort(KEY)  # the same order in every process: no lock-order deadlocks
    subjects = read_subjects(subjects_path) if subjects_path is not None else None
    files = [file_info(p) for p in [*paths, *([subjects_path] if subjects_path else [])]]
    n_rows = (0 if frame is None else frame.height)
    try:
        with write_transaction(engine, "records") as conn:
            actor = _actor(conn, user)
            batch = _new_batch(conn, "records", actor, files, rules.content_hash)
            added = n_events = subjects_added = changed = 0
            if frame is not None and frame.height:
                new, n_events = _compare_with_store(conn, frame, batch, actor, paths)
                # Already stored keys are skipped by the database too: the lock makes
                # that a second line of defence, not the first.
                bulk_insert(conn, "penalty_record", new.with_columns(
                    pl.lit(batch, pl.Int64).alias("import_id")).select(RECORD_COLUMNS),
                    skip_existing=True, progress=progress, desc="inserting records")
                stored = table("penalty_record")
                added = int(conn.execute(select(func.count()).select_from(stored).where(
                    stored.c.import_id == batch)).scalar_one())
            if subjects is not None:
                subjects_added, changed = _import_subjects(conn, subjects, batch, actor)
            result = ImportResult(batch, n_rows, added, n_events, changed, subjects_added,
                                  files, unchanged=n_rows - added - n_events)
            if not (added or n_events or subjects_added or changed):
                raise _NothingNew
            _finish_batch(conn, batch, actor, "records.import", result)
    except _NothingNew:
        return ImportResult(None, n_rows, 0, files=files, unchanged=n_rows)
    return result


def _compare_with_store(conn: Connection, frame: pl.DataFrame, batch: int, actor: str,
                        paths: Sequence[str | Path]) -> tuple[pl.DataFrame, int]:
    """Compare the file's records with their stored copies: refuse conflicts, store
    fill-ins as events; return the records not yet stored and the number of events."""
    if conn.execute(select(table("penalty_record").c.id).limit(1)).first() is None:
        return frame, 0  # an empty store: nothing to compare with
    stored = stored_copies(conn, frame)
    if stored.height == 0:
        return frame, 0
    conflicts, events = _compare(frame, stored)
    if conflicts:
        raise InputError(_problems(paths, conflicts))
    new = frame.join(stored.select(KEY), on=KEY, how="anti")
    if events.height:
        now = utcnow()
        rows = events.with_columns(
            pl.lit("import").alias("origin"), pl.lit(batch, pl.Int64).alias("import_id"),
            pl.lit(actor).alias("by"), pl.lit(now).alias("at"),
            pl.lit("filled in by a later copy of the record").alias("reason"))
        bulk_insert(conn, "record_event", rows)
    return new, events.height


def import_lists(url: str | None, paths: Sequence[str | Path], *, user: str | None = None
                 ) -> ImportResult:
    """Import canonical external list entries in one transaction: new (list, entry_id)
    are added, changed ones updated (each change audited with before and after), the
    same entries again change nothing."""
    entries = read_list_entries(list(paths))
    engine = get_engine(url)
    ensure_schema(engine)
    files = [file_info(p) for p in paths]
    columns = [c for c in LIST_SCHEMA if c != "list"]
    too_long = [(lst, eid, c, n) for c, n in LIST_TEXT.items() if c in entries.columns
                for lst, eid in entries.filter(pl.col(c).str.len_chars() > n)
                .select("list", "entry_id").iter_rows()]
    if too_long:
        raise InputError([Problem(", ".join(map(str, paths)), None, c,
                                  f"entry {lst}/{eid}: too long (at most {n} characters)")
                          for lst, eid, c, n in too_long])
    try:
        with write_transaction(engine, "records") as conn:
            actor = _actor(conn, user)
            batch = _new_batch(conn, "lists", actor, files)
            stored = _stored_entries(conn)
            both = entries.join(stored, on=["list", "entry_id"], how="left", suffix="_stored")
            new = both.filter(pl.col("id").is_null()).select(
                pl.col("list").alias("list_name"), *columns,
                pl.lit(batch, pl.Int64).alias("import_id"))
            bulk_insert(conn, "list_entry", new)
            differs = pl.any_horizontal(pl.col(c).ne_missing(pl.col(f"{c}_stored"))
                                        for c in columns if c != "entry_id")
            changed = both.filter(pl.col("id").is_not_null() & differs)
            t = table("list_entry")
            for row in changed.iter_rows(named=True):
                after = {c: row[c] for c in columns}
                conn.execute(t.update().where(t.c.id == row["id"]).values(
                    **after, import_id=batch))
                audit.record(conn, actor, "list_entry.update", "list_entry",
                             f"{row['list']}/{row['entry_id']}",
                             before={"list": row["list"],
                                     **{c: row[f"{c}_stored"] if c != "entry_id"
                                        else row[c] for c in columns}},
                             after={"list": row["list"], **after, "import_id": batch})
            result = ImportResult(batch, entries.height, new.height, changed=changed.height,
                                  files=files,
                                  unchanged=entries.height - new.height - changed.height)
            if not (new.height or changed.height):
                raise _NothingNew
            _finish_batch(conn, batch, actor, "lists.import", result)
    except _NothingNew:
        return ImportResult(None, entries.height, 0, files=files, unchanged=entries.height)
    return result


def _stored_entries(conn: Connection) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {"id": pl.Int64(), **LIST_SCHEMA}
    return query_frame(conn, "SELECT id, list_name, entry_id, subject_id, name, country, "
                             "listed_on, until, grounds, scope, financier, source_row "
                             "FROM list_entry", schema)


def count_rows(url: str | None, table_name: str) -> int:
    """How many rows a store table holds (tests, reports)."""
    engine = get_engine(url)
    with read_transaction(engine) as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table_name}")).scalar_one())
