"""The bundled sample store and its demo accounts: built only when asked for
(``creditindex db sample``, ``scripts/demo.sh``), never by the app on its own.

A store is a *demo store* while it holds the demo accounts and nothing has been imported
into it since the sample was built; the app says so in its banner. Once real data
arrives, it is a production store: the demo passwords no longer sign anyone in."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select

from creditindex.store.db import (
    StoreError,
    get_engine,
    read_transaction,
    table,
    write_transaction,
)
from creditindex.store.importer import import_records
from creditindex.store.location import project_root
from creditindex.store.migrations import ensure_schema
from creditindex.store.rulesets import ensure_published
from creditindex.store.users import add_user

SAMPLE_DIR = project_root() / "data" / "sample"
SAMPLE_ACTOR = "sample-setup"
# Demo accounts of the bundled sample database (shown on the sign-in page only there).
DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("staff", "staff-demo", "staff"),
    ("regulator", "regulator-demo", "regulator"),
    ("public", "public-demo", "public"),
)


def is_empty(url: str) -> bool:
    """Whether the store holds no records and no users yet."""
    engine = get_engine(url)
    ensure_schema(engine)
    with read_transaction(engine) as conn:
        records = conn.execute(select(func.count()).select_from(table("penalty_record")))
        users = conn.execute(select(func.count()).select_from(table("app_user")))
        return int(records.scalar_one()) == 0 and int(users.scalar_one()) == 0


DEMO_PASSWORDS = frozenset(p for _u, p, _r in DEMO_USERS)


def is_demo_store(url: str | None) -> bool:
    """Whether the store holds the sample's demo accounts and no data imported after
    the sample was built (its real state, asked of the database)."""
    engine = get_engine(url)
    ensure_schema(engine)
    users, batches = table("app_user"), table("import_batch")
    with read_transaction(engine) as conn:
        built = conn.execute(select(func.max(users.c.created_at)).where(
            users.c.created_by == SAMPLE_ACTOR)).scalar()
        if built is None:
            return False
        later = conn.execute(select(func.count()).select_from(batches).where(
            batches.c.at > built)).scalar_one()
    return int(later) == 0


def build_sample(url: str, sample_dir: Path = SAMPLE_DIR, today: dt.date | None = None
                 ) -> bool:
    """Fill an empty store with the bundled sample (records, subjects, the default rule
    set) and the demo accounts of :data:`DEMO_USERS`. A store that already holds data is
    left alone; returns whether anything was built."""
    records, subjects = sample_dir / "records.csv", sample_dir / "subjects.csv"
    if not records.exists():
        raise StoreError(f"the sample data {records} is missing (regenerate it with "
                         "`.venv/bin/python data/generate_sample.py`)")
    if not is_empty(url):
        return False
    with write_transaction(get_engine(url)) as conn:
        ensure_published(conn, today or dt.date.today(), SAMPLE_ACTOR)
    import_records(url, [records], subjects_path=subjects if subjects.exists() else None,
                   user=None)
    for name, password, role in DEMO_USERS:
        add_user(url, name, role, password, by=SAMPLE_ACTOR)
    return True
