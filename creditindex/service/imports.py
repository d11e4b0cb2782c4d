"""Uploaded files checked as an import would read them, or imported into the store (as
staff), with every problem naming the uploaded file; the latest imports."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy import select

from creditindex.errors import InputError, Problem
from creditindex.lists import read_list_entries
from creditindex.records import read_records
from creditindex.rules import RuleSet
from creditindex.service.auth import Permission, User, require
from creditindex.service.state import ActionError, changed, ready_engine
from creditindex.store.db import StoreError, read_transaction, table
from creditindex.store.importer import import_lists, import_records, read_subjects


@dataclass(frozen=True)
class ImportReport:
    """What an import did (or, with ``checked_only``, would read)."""

    checked_only: bool
    import_id: int | None
    rows: int
    added: int = 0
    events: int = 0
    changed: int = 0
    subjects_added: int = 0


Upload = tuple[str, bytes]  # a file's name and content, as uploaded


def _save(folder: Path, uploads: Sequence[Upload]) -> list[Path]:
    paths = []
    for i, (name, content) in enumerate(uploads):
        safe = Path(name).name or f"upload-{i}"
        target = folder / str(i) / safe
        target.parent.mkdir(parents=True)
        target.write_bytes(content)
        paths.append(target)
    return paths


def _renamed(exc: InputError, folder: Path) -> InputError:
    """Problems naming the uploaded file, not the temporary copy."""
    prefix = str(folder)
    return InputError([Problem(Path(p.file).name if p.file.startswith(prefix) else p.file,
                               p.row, p.column, p.reason) for p in exc.problems])


@contextmanager
def _uploaded(uploads: Sequence[Upload]) -> Iterator[tuple[Path, list[Path]]]:
    """The uploads saved in a temporary folder (removed afterwards); problems found
    inside the block name the uploaded files."""
    with tempfile.TemporaryDirectory(prefix="creditindex-upload-") as tmp:
        folder = Path(tmp)
        try:
            yield folder, _save(folder, uploads)
        except InputError as exc:
            raise _renamed(exc, folder) from exc


def validate_upload(user: User, kind: str, uploads: Sequence[Upload], rules: RuleSet,
                    today: dt.date, subjects: Upload | None = None) -> ImportReport:
    """Check uploaded files (``kind``: ``lists`` or records, read under ``rules``) as an
    import would, without importing anything; raises :class:`InputError` with every
    problem."""
    require(user, Permission.IMPORT)
    with _uploaded(uploads) as (folder, paths):
        if kind == "lists":
            rows = read_list_entries(paths).height
        else:
            rows = read_records(paths, rules, today=today).height if paths else 0
            if subjects is not None:
                rows += read_subjects(_save(folder / "s", [subjects])[0]).height
    return ImportReport(checked_only=True, import_id=None, rows=rows)


def import_upload(url: str, user: User, kind: str, uploads: Sequence[Upload],
                  subjects: Upload | None = None) -> ImportReport:
    """Import uploaded files into the store as ``user``; raises :class:`InputError`
    with every problem (and imports nothing) when any row is bad."""
    require(user, Permission.IMPORT)
    with _uploaded(uploads) as (folder, paths):
        try:
            if kind == "lists":
                res = import_lists(url, paths, user=user.username)
            else:
                subject_path = None if subjects is None else _save(folder / "s",
                                                                   [subjects])[0]
                res = import_records(url, paths, subjects_path=subject_path,
                                     user=user.username)
        except StoreError as exc:
            raise ActionError(str(exc)) from exc
        finally:
            changed()
    return ImportReport(checked_only=False, import_id=res.import_id, rows=res.rows,
                        added=res.added, events=res.events, changed=res.changed,
                        subjects_added=res.subjects_added)


def import_batches(url: str, user: User, limit: int = 50) -> pl.DataFrame:
    """The latest imports: id, kind, when, by whom, what they added."""
    require(user, Permission.IMPORT)
    b = table("import_batch")
    with read_transaction(ready_engine(url)) as conn:
        rows = conn.execute(select(b.c.id, b.c.kind, b.c.at, b.c.by, b.c.added, b.c.changed,
                                   b.c.events).order_by(b.c.id.desc()).limit(limit)).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
        "id": pl.Int64, "kind": pl.String, "at": pl.Datetime("us"), "by": pl.String,
        "added": pl.Int64, "changed": pl.Int64, "events": pl.Int64})
