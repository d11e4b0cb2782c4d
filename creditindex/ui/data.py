"""All the data the app reads and every change it makes, in one place.

Reads come from the store as one :class:`CreditData`, cached per database state (the
newest audit-log row: every change to the store writes one) and go through the pure
functions of :mod:`creditindex.evaluate`; answers are cached per (database state,
rule-set hash, day, known-on day). Changes call the store's functions, each only after
:func:`creditindex.ui.auth.require` has checked the user's role, so an action is refused
on the server even when a page is bypassed (the store checks the user's role again).
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st
from sqlalchemy import func, select

from creditindex import evaluate, wording
from creditindex.certificate import CheckRequest
from creditindex.disclosure import publication_status_expr
from creditindex.errors import InputError, Problem
from creditindex.evaluate import CheckResult, CreditData
from creditindex.evidence import ANONYMOUS_PREFIX as ANONYMOUS_PREFIX
from creditindex.evidence import evidence_payload, render_evidence
from creditindex.identifiers import id_problem, rid_problem
from creditindex.lists import read_list_entries
from creditindex.records import read_records
from creditindex.regions import region_name
from creditindex.rules import DEFAULT_RULES, SUBJECT_TYPES, RuleSet
from creditindex.store import approvals, lifecycle
from creditindex.store.audit import audit_trail
from creditindex.store.checks import Certificate, count_checks, issue_check
from creditindex.store.checks import verify as verify_code
from creditindex.store.day_pages import DayPage, stored_page
from creditindex.store.db import (
    StoreError,
    default_url,
    get_engine,
    read_transaction,
    utcnow,
)
from creditindex.store.importer import import_lists, import_records, read_subjects
from creditindex.store.load import load_data
from creditindex.store.migrations import ensure_schema
from creditindex.store.models import table
from creditindex.store.rulesets import (
    list_versions,
    rules_for,
)
from creditindex.store.sample import DEMO_USERS as DEMO_USERS
from creditindex.store.sample import build_sample as build_store_sample
from creditindex.store.sample import is_demo_store
from creditindex.store.snapshots import stored_snapshot
from creditindex.store.state import data_state
from creditindex.store.users import find_user
from creditindex.ui import auth, tables
from creditindex.ui.auth import Permission, User
from creditindex.ui.i18n import current_lang
from creditindex.ui.limits import LimitReached, limits

_setup_lock = threading.Lock()


class ActionError(Exception):
    """The store refused an action (a step out of order, an unknown record, ...)."""


def today() -> dt.date:
    """Today on the server."""
    return dt.date.today()


# --------------------------------------------------------------------------------------
# Where the data is, and the bundled sample
# --------------------------------------------------------------------------------------


def db_url() -> str:
    """The store's URL: ``CREDITINDEX_DB``, else the project's SQLite file."""
    return default_url()


def _engine(url: str | None = None) -> Any:
    engine = get_engine(url or db_url())
    ensure_schema(engine)
    return engine


def build_sample(url: str) -> None:
    """Fill an empty store with the bundled sample and the demo accounts (only when
    asked for: ``creditindex db sample``, the demo script, the tests; never on start)."""
    build_store_sample(url, today=today())


@st.cache_resource(show_spinner=False)
def _ready(url: str, warm: bool) -> bool:
    with _setup_lock:
        _engine(url)  # the schema is created on first use; nothing else is written
    if warm:
        threading.Thread(target=_warm, name="creditindex-warm-up", daemon=True).start()
    return True


# Set once a first page has been sent: the work in the background waits for it (at most
# FIRST_PAGE_WAIT seconds), then FIRST_PAGE_DRAW seconds more while the browser draws
# the page (a second or so on a busy 2-core machine), so that the first visitor's page
# does not share the CPU with loading the whole day.
_first_shown = threading.Event()
FIRST_PAGE_WAIT = 15.0
FIRST_PAGE_DRAW = 3.0


def first_page_shown() -> None:
    """Tell the work in the background that a first page has been sent."""
    _first_shown.set()


def _after_first_page() -> None:
    """Wait until the first page is on screen (or for FIRST_PAGE_WAIT seconds)."""
    if _first_shown.wait(FIRST_PAGE_WAIT):
        time.sleep(FIRST_PAGE_DRAW)


def _warm() -> None:
    """Compute today's rankings, industries and subject directory in the background once
    the server has its first session (and its first page is shown), so that later
    visitors find them ready (a million subjects take a while)."""
    _after_first_page()
    try:
        rankings(today())
        industries()
        find_subjects("-")
    except Exception:  # a warm-up that fails leaves the work to the first visitor
        logging.getLogger(__name__).exception("warm-up failed")


def ensure_ready() -> None:
    """Make sure the store can be read (an empty store gets its schema, nothing more: the
    sample and the demo accounts exist only when asked for). A server (not a test) then
    warms its caches in the background."""
    _ready(db_url(), warm=not st.get_option("global.appTest"))


STATE_TTL = 1.0  # seconds a state token is reused (one page run asks many times)
_states: dict[str, tuple[float, str]] = {}


def state(url: str | None = None) -> str:
    """A token that changes whenever what the engine reads changes (every change to the
    store writes an audit-log row) or the day turns (rule sets come into force on a day).
    Eligibility checks, evaluations and users do not change it. Asked of the database at
    most once a second; changes made through this module are seen at once."""
    key = url or db_url()
    now = time.monotonic()
    known = _states.get(key)
    if known is not None and now - known[0] < STATE_TTL:
        return known[1]
    with read_transaction(_engine(key)) as conn:
        newest = data_state(conn)
    token = f"{newest}@{today().isoformat()}"
    _states[key] = (now, token)
    return token


def changed() -> None:
    """Forget the state token: this process has just changed the store."""
    _states.clear()


@st.cache_resource(show_spinner=False, max_entries=4, ttl=60)
def _store_kind(url: str, state: str) -> str:
    records = table("penalty_record")
    with read_transaction(_engine(url)) as conn:  # any record at all (not how many)
        held = conn.execute(select(records.c.id).limit(1)).first() is not None
    if is_demo_store(url):
        return "demo"
    return "production" if held else "empty"


def is_sample() -> bool:
    """Whether the store is the demo store: the bundled sample with its demo accounts and
    nothing imported since (asked of the store; see :func:`store_notice`)."""
    url = db_url()
    return _store_kind(url, state(url)) == "demo"


def store_notice() -> str | None:
    """The catalogue key of the banner saying what store this is: the fictional demo
    data, an empty store (how to fill it), or ``None`` for a production store."""
    url = db_url()
    kind = _store_kind(url, state(url))
    return None if kind == "production" else f"app.store_{kind}"


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=2)
def _loaded(url: str, state: str) -> CreditData:
    return load_data(url)


@st.cache_resource(show_spinner=False, max_entries=16)
def _rules_on(url: str, state: str, day: dt.date) -> RuleSet:
    with read_transaction(_engine(url)) as conn:
        return rules_for(conn, None, day)


def credit_data(on: dt.date | None = None) -> CreditData:
    """Everything the engine reads, as the store holds it now, with the rule set in force
    on ``on`` (default today)."""
    url = db_url()
    token = state(url)
    data = _loaded(url, token)
    rules_ = _rules_on(url, token, on or today())
    if rules_.content_hash == data.rules.content_hash:
        return data
    return CreditData(records=data.records, rules=rules_, subjects=data.subjects,
                      lists=data.lists, manual=data.manual)


def rules(on: dt.date | None = None) -> RuleSet:
    """The rule set in force on ``on`` (default today)."""
    url = db_url()
    return _rules_on(url, state(url), on or today())


@dataclass(frozen=True)
class Rankings:
    """One day's answer for every subject, split by subject type (rank order)."""

    on: dt.date
    known_on: dt.date
    by_type: dict[str, pl.DataFrame]
    rules_hash: str

    def of(self, subject_type: str) -> pl.DataFrame:
        """The ranking of one subject type (empty when there are none)."""
        return self.by_type.get(subject_type, _EMPTY_RANKING)


_COMPUTE_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(), "subject_type": pl.String(), "subject_name": pl.String(),
    "index": pl.Float64(), "grade": pl.String(), "rank": pl.Int64(),
    "deducted": pl.Float64(), "restricted": pl.Boolean(), "reasons": pl.String()}
_EMPTY_RANKING = pl.DataFrame(schema={**_COMPUTE_SCHEMA, "public_id": pl.String(),
                                      "region": pl.String(), "_search": pl.String()})


def _published_subjects(url: str, state: str, rules_hash: str, day: dt.date) -> int | None:
    """How many subjects the day's stored snapshot (the daily evaluation, 每日一评)
    holds when it was made by this rule set from the data as they are now; else
    ``None``."""
    newest = int(state.split("@")[0])
    runs = table("evaluation_run")
    with read_transaction(_engine(url)) as conn:
        found = conn.execute(select(runs.c.n_subjects).where(
            runs.c.day == day, runs.c.known_on == day, runs.c.rules_hash == rules_hash,
            runs.c.data_version >= newest).limit(1)).scalar()
    return None if found is None else int(found)


def _stored_answer(url: str, state: str, rules_hash: str, day: dt.date
                   ) -> pl.DataFrame | None:
    """The day's stored snapshot when it stands for the data as they are now."""
    if _published_subjects(url, state, rules_hash, day) is None:
        return None
    return stored_snapshot(url, day, rules_hash)


@st.cache_resource(show_spinner=False, max_entries=4)
def _rankings(url: str, state: str, rules_hash: str, on: dt.date, known_on: dt.date
              ) -> Rankings:
    scores = _stored_answer(url, state, rules_hash, on) if known_on == on else None
    if scores is None:
        scores = evaluate.compute(credit_data(on), on, known_on)
    else:  # a snapshot keeps the grade (its watch label follows), not the categories
        if "watch" not in scores.columns:
            scores = scores.with_columns(
                evaluate.watch_expr(rules(on), pl.col("grade")).alias("watch"))
        if "restricted_in" not in scores.columns:
            scores = scores.with_columns(pl.lit(None, pl.String).alias("restricted_in"))
    return Rankings(on=on, known_on=known_on, by_type=tables.prepare_rankings(scores),
                    rules_hash=rules_hash)


def rankings(on: dt.date, known_on: dt.date | None = None) -> Rankings:
    """Every subject's index, grade, rank and restriction on ``on`` as known on
    ``known_on``: computed once per (database state, rule-set hash, day, known-on day)
    and shared by every session (frames are never changed in place)."""
    url = db_url()
    token = state(url)
    key = (url, token, rules(on).content_hash, on, known_on or on)
    found = _rankings(*key)
    _in_memory.add(key)
    return found


# Days of fewer subjects load whole at once (a second or two): no first page alone.
FIRST_PAGE_FROM = 100_000
_in_memory: set[tuple[str, str, str, dt.date, dt.date]] = set()
_loading: set[tuple[str, str, str, dt.date, dt.date]] = set()


def first_page(on: dt.date, subject_type: str, size: int) -> DayPage | None:
    """The first ``size`` rows of the published day ``on`` for ``subject_type``, read by
    an indexed query, while the whole day is not yet in this server's memory (then it
    is loaded in the background and ``None`` is returned from then on); ``None`` too
    when the day is not stored as it stands (the whole day is computed instead) or has
    fewer than :data:`FIRST_PAGE_FROM` subjects."""
    url = db_url()
    token = state(url)
    key = (url, token, rules(on).content_hash, on, on)
    if key in _in_memory:
        return None
    page = _first_page(url, token, key[2], on, subject_type, size)
    if page is not None and key not in _loading:
        _loading.add(key)
        threading.Thread(target=_load_day, args=(on,), daemon=True,
                         name="creditindex-rankings").start()
    return page


def day_loaded(on: dt.date) -> bool:
    """Whether the whole day ``on`` (as known that day) is in this server's memory."""
    url = db_url()
    return (url, state(url), rules(on).content_hash, on, on) in _in_memory


def _load_day(on: dt.date) -> None:
    _after_first_page()
    try:
        rankings(on)
    except Exception:  # the next visitor's page loads it instead
        logging.getLogger(__name__).exception("loading the day failed")


@st.cache_resource(show_spinner=False, max_entries=16)
def _first_page(url: str, state: str, rules_hash: str, on: dt.date, subject_type: str,
                size: int) -> DayPage | None:
    subjects = _published_subjects(url, state, rules_hash, on)
    if subjects is None or subjects < FIRST_PAGE_FROM:
        return None
    return stored_page(url, on, rules_hash, subject_type, size)


@st.cache_resource(show_spinner=False, max_entries=2)
def _industries(url: str, state: str) -> pl.DataFrame:
    return _loaded(url, state).records.select("subject_id", "industry", "recorded_on")


def subjects_in_industries(industries: Sequence[str], known_on: dt.date) -> pl.Series:
    """Subject IDs with a penalty record known on ``known_on`` in any of ``industries``."""
    url = db_url()
    frame = _industries(url, state(url))
    return frame.filter(pl.col("industry").is_in(list(industries))
                        & (pl.col("recorded_on") <= known_on)).get_column(
        "subject_id").unique()


@st.cache_resource(show_spinner=False, max_entries=2)
def _industry_list(url: str, state: str) -> list[str]:
    records = table("penalty_record")
    with read_transaction(_engine(url)) as conn:
        found = conn.execute(select(records.c.industry).distinct()).scalars().all()
    return sorted(str(i) for i in found)


def industries() -> list[str]:
    """Industries of the records held."""
    url = db_url()
    return _industry_list(url, state(url))


def region_label(code: str) -> str:
    """A region's name from the GB/T 2260 table (the bare code when it is not there)."""
    return region_name(code) or str(code)


@st.cache_resource(show_spinner=False, max_entries=2)
def _directory(url: str, state: str) -> pl.DataFrame:
    data = _loaded(url, state)
    names = data.names().filter(pl.col("latest")).unique(["subject_id", "subject_type"],
                                                         keep="last")
    keys = data.subject_keys().join(names.drop("latest"), on=["subject_id", "subject_type"],
                                    how="left")
    return keys.with_columns(
        tables.public_id_expr().alias("public_id"),
        pl.col("subject_name").fill_null("").str.to_uppercase().alias("_name"),
    ).sort("subject_type", "subject_id")


def find_subjects(query: str, subject_type: str | None = None, limit: int = 50,
                  user: User | None = None) -> pl.DataFrame:
    """Subjects whose name or code contains ``query`` (``subject_id, subject_type,
    subject_name, public_id``). Experts are found by name or by their whole resident ID
    number only, so that a part of one reveals nothing."""
    url = db_url()
    frame = _directory(url, state(url))
    q = query.strip().upper()
    if not q:
        return frame.head(0).drop("_name")
    personal = (pl.col("subject_type") == "expert") | tables.looks_personal_expr()
    hit = (pl.col("_name").str.contains(q, literal=True)
           | (pl.col("subject_id") == q)
           | (~personal & pl.col("subject_id").str.contains(q, literal=True)))
    if subject_type:
        hit = hit & (pl.col("subject_type") == subject_type)
    if user is not None and not user.may(Permission.CONFIDENTIAL):
        hit = hit & ~personal
    return frame.filter(hit).head(limit).drop("_name")


def subject_name(subject_id: str, subject_type: str | None = None) -> str:
    """A subject's latest name ('' when unknown)."""
    url = db_url()
    frame = _directory(url, state(url)).filter(pl.col("subject_id") == subject_id)
    if subject_type:
        frame = frame.filter(pl.col("subject_type") == subject_type)
    names = frame.get_column("subject_name").drop_nulls()
    return str(names[0]) if names.len() else ""


def subject_types_of(subject_id: str) -> list[str]:
    """The roles a subject has."""
    url = db_url()
    frame = _directory(url, state(url)).filter(pl.col("subject_id") == subject_id)
    return frame.get_column("subject_type").to_list()


@dataclass(frozen=True)
class Profile:
    """What the public may know of one subject on a day."""

    subject_id: str
    subject_type: str
    subject_name: str
    on: dt.date
    known_on: dt.date
    summary: dict[str, Any] | None
    history: pl.DataFrame
    deductions: pl.DataFrame
    records: pl.DataFrame
    grounds: pl.DataFrame
    events: pl.DataFrame


def _behaviour_names(rules_: RuleSet) -> pl.DataFrame:
    return pl.DataFrame({
        "behaviour_code": [b.code for b in rules_.behaviour],
        "behaviour_name": [b.name for b in rules_.behaviour],
        "behaviour_name_en": [b.name_en or b.name for b in rules_.behaviour],
        "nominal_points": [float(b.points) for b in rules_.behaviour],
        "days": [b.days for b in rules_.behaviour]})


def behaviour_names(lang: str, on: dt.date | None = None) -> dict[str, str]:
    """Behaviour codes with their names in ``lang`` (the rule set in force on ``on``)."""
    return wording.behaviour_names(rules(on).behaviour, lang)


def grounds_for(subject_ids: Sequence[str], on: dt.date, known_on: dt.date
                ) -> pl.DataFrame:
    """Every restriction ground in force on ``on`` of a few subjects (a page of rows),
    from their rows alone (indexed reads: the whole store is never loaded for a page)."""
    if not subject_ids:
        return pl.DataFrame(schema={"subject_id": pl.String})
    ids = list(subject_ids)
    data = load_data(db_url(), on=on, subject_ids=ids)
    return evaluate.check(data, on, ids, known_on=known_on).grounds


def visible_types(user: User) -> list[str]:
    """The subject types ``user`` may browse: experts only for staff and regulators
    (evaluation committees are confidential until the award)."""
    if user.may(Permission.CONFIDENTIAL):
        return list(SUBJECT_TYPES)
    return [s for s in SUBJECT_TYPES if s != "expert"]


def may_see(user: User, subject_id: str, subject_type: str) -> bool:
    """Whether ``user`` may open this subject's profile (experts, and anything shaped
    like a resident ID number, are staff-only)."""
    if user.may(Permission.CONFIDENTIAL):
        return True
    return subject_type != "expert" and not tables.looks_personal(subject_id)


def profile(subject_id: str, subject_type: str, on: dt.date, known_on: dt.date,
            start: dt.date, fixed_knowledge: bool, user: User = auth.ANONYMOUS) -> Profile:
    """A subject's index from ``start`` to ``on`` (as published each day, or as known on
    ``known_on`` when ``fixed_knowledge``), the deductions counted on ``on``, its records,
    restrictions with their grounds, objections and repairs."""
    data = credit_data(on)
    row = rankings(on, known_on).of(subject_type).filter(pl.col("subject_id") == subject_id)
    summary = row.row(0, named=True) if row.height else None
    hist = evaluate.history(data, subject_id, start, on, subject_type,
                            known_on=known_on if fixed_knowledge else None)
    names = _behaviour_names(data.rules)
    deductions = evaluate.explain(data, subject_id, on, known_on, subject_type).join(
        names.select("behaviour_code", "behaviour_name_en"), on="behaviour_code", how="left")
    records = data.records.filter(
        (pl.col("subject_id") == subject_id) & (pl.col("subject_type") == subject_type)
        & (pl.col("recorded_on") <= known_on)
    ).drop("subject_name").join(names, on="behaviour_code", how="left").with_columns(
        (pl.col("decided_on") + pl.duration(days=pl.col("days"))).alias("nominal_end"),
        pl.when(pl.col("revoked_on") <= known_on).then(pl.col("revoked_on"))
        .alias("revoked_on"),
        pl.when(pl.col("repaired_on") <= known_on).then(pl.col("repaired_on"))
        .alias("repaired_on"),
    ).sort("decided_on", descending=True)
    counted = deductions.get_column("record_id").implode()
    records = records.with_columns(
        pl.when(pl.col("record_id").is_in(counted)).then(pl.lit("counted"))
        .when(pl.col("revoked_on").is_not_null()).then(pl.lit("revoked"))
        .when(pl.col("decided_on") > on).then(pl.lit("future"))
        .when(pl.col("repaired_on").is_not_null()).then(pl.lit("repaired"))
        .otherwise(pl.lit("expired")).alias("status"),
        publication_status_expr(on).alias("publication"))
    records = records.with_columns((pl.col("publication") == "public").alias("published"))
    events = record_events(subject_id, subject_type, known_on)
    if not user.may(Permission.CONFIDENTIAL):  # the public sees what may be published
        records = records.filter(pl.col("published"))
        events = events.filter(pl.col("record_id").is_in(
            records.get_column("record_id").implode()))
    grounds = evaluate.check(data, on, [subject_id], known_on=known_on).grounds
    return Profile(subject_id=subject_id, subject_type=subject_type,
                   subject_name=subject_name(subject_id, subject_type), on=on,
                   known_on=known_on, summary=summary, history=hist, deductions=deductions,
                   records=records, grounds=grounds, events=events)


EVENT_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(), "record_id": pl.String(), "source": pl.String(), "kind": pl.String(),
    "effective_on": pl.Date(), "outcome": pl.String(), "document_no": pl.String(),
    "reason": pl.String(), "by": pl.String(), "at": pl.Datetime("us")}


def record_events(subject_id: str, subject_type: str | None = None,
                  known_on: dt.date | None = None) -> pl.DataFrame:
    """Objections, rulings, revocations and repairs of a subject's records (those dated
    up to ``known_on``), newest first."""
    ev, rec = table("record_event"), table("penalty_record")
    query = select(ev.c.id, rec.c.record_id, rec.c.source, ev.c.kind, ev.c.effective_on,
                   ev.c.outcome, ev.c.document_no, ev.c.reason, ev.c.by, ev.c.at).join(
        rec, rec.c.id == ev.c.record_pk).where(rec.c.subject_id == subject_id)
    if subject_type:
        query = query.where(rec.c.subject_type == subject_type)
    if known_on is not None:
        query = query.where(func.date(ev.c.at) <= known_on)
    with read_transaction(_engine()) as conn:
        rows = conn.execute(query.order_by(ev.c.id.desc())).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=EVENT_SCHEMA, orient="row")


@dataclass(frozen=True)
class Eligibility:
    """An eligibility answer with its evidence report (experts' IDs masked)."""

    result: CheckResult
    names: dict[str, str]
    shown: dict[str, str]
    invalid: list[tuple[str, str]]
    payload: dict[str, Any]
    html: str
    check_id: int | None
    check_no: str | None = None
    verify_code: str | None = None
    certificate: dict[str, Any] | None = None


def _shown_ids(subject_ids: Sequence[str]) -> dict[str, str]:
    """How each identifier is shown publicly: an expert's resident ID is masked; a code
    the store knows only as a firm's is shown whole; an unknown code is masked when it is
    a valid resident ID number."""
    url = db_url()
    roles = _directory(url, state(url)).filter(pl.col("subject_id").is_in(
        list(subject_ids))).group_by("subject_id").agg(
        (pl.col("subject_type") == "expert").any().alias("expert"))
    expert = dict(roles.iter_rows())
    shown = {}
    for sid in subject_ids:
        personal = expert.get(sid, tables.looks_personal(sid) or rid_problem(sid) is None)
        shown[sid] = tables.public_id(sid, "expert") if personal else sid
    return shown


def show_id(value: str, shown: dict[str, str]) -> str:
    """An identifier (or a consortium's ``A+B``) as shown publicly."""
    return "+".join(shown.get(p, tables.public_id(p)) for p in value.split("+"))


def _mask_payload(payload: dict[str, Any], result: CheckResult, shown: dict[str, str]
                  ) -> dict[str, Any]:
    """The evidence payload with identifiers as shown publicly (consortium members too)
    and any resident ID number in the texts masked."""
    def one(value: str) -> str:
        return show_id(value, shown)

    out = dict(payload)
    out["answers"] = [{**a, "subject_id": one(sid),
                       "reasons": tables.mask_text(str(a.get("reasons") or ""))}
                      for a, sid in zip(payload["answers"],
                                        result.table.get_column("subject_id"), strict=True)]
    out["grounds"] = [{**g, "subject_id": one(sid),
                       "detail": tables.mask_text(str(g.get("detail") or ""))}
                      for g, sid in zip(payload["grounds"],
                                        result.grounds.get_column("subject_id"), strict=True)]
    return out


def _within_limits(user: User, subject_ids: list[str], subject_type: str | None,
                   anonymous_id: str) -> None:
    """Refuse a check that a limit forbids (see :mod:`creditindex.ui.limits`)."""
    lim = limits()
    if not user.may(Permission.CONFIDENTIAL) and (
            subject_type == "expert" or any(tables.looks_personal(s) for s in subject_ids)):
        raise LimitReached("limit.experts_staff_only")
    if user.signed_in:
        if len(subject_ids) > lim.subjects:
            raise LimitReached("limit.subjects", n=len(subject_ids), max=lim.subjects)
        return
    if len(subject_ids) > lim.anon_subjects:
        raise LimitReached("limit.anon_subjects", n=len(subject_ids), max=lim.anon_subjects)
    since = utcnow() - dt.timedelta(days=1)
    mine, _b = count_checks(db_url(), since=since, by_prefix=anonymous_id)
    if mine >= lim.anon_per_session:
        raise LimitReached("limit.anon_session", max=lim.anon_per_session)
    everyone, size = count_checks(db_url(), since=since, by_prefix=ANONYMOUS_PREFIX)
    if everyone >= lim.anon_per_day or size >= lim.anon_bytes_per_day:
        raise LimitReached("limit.anon_day")




def check(user: User, subject_ids: list[str], on: dt.date, known_on: dt.date,
          subject_type: str | None, consortium: bool, anonymous_id: str = "anonymous:-"
          ) -> Eligibility:
    """Check candidates' eligibility on ``on`` as known on ``known_on`` the one way every
    face does (:func:`creditindex.store.checks.issue_check`): stored, numbered, with a
    certificate and a verification code. Codes failing their check digit are not
    answered (listed in ``invalid``); the evidence report masks resident ID numbers.
    Anonymous checks are limited (size, quotas), may not ask about experts, and are
    stored under ``anonymous_id``."""
    auth.require(user, Permission.VIEW)
    _within_limits(user, subject_ids, subject_type, anonymous_id)
    data = credit_data(on)
    shown = _shown_ids(subject_ids)
    invalid = []
    valid = []
    for sid in subject_ids:
        why = id_problem(sid)
        if why is None:
            valid.append(sid)
        else:
            invalid.append((shown[sid], why))
    if not valid:  # nothing to answer: no check is made, let alone certified
        empty = evaluate.check(data, on, [], subject_type, known_on=known_on)
        return Eligibility(result=empty, names={}, shown=shown, invalid=invalid, payload={},
                           html="", check_id=None)
    request = CheckRequest(subject_ids=tuple(valid), on=on, known_on=known_on,
                           subject_type=subject_type, consortium=consortium and len(valid) > 1)
    checked_by = user.username or anonymous_id
    issued = issue_check(db_url(), data, request, user=user.username or None,
                         operator=user.username or "public", channel="app",
                         actor=None if user.signed_in else anonymous_id)
    result = issued.result
    inputs = {"subject_ids": [shown[s] for s in valid], "subject_type": subject_type,
              "consortium": request.consortium, "checked_by": checked_by}
    payload = _mask_payload(evidence_payload(result, data, inputs), result, shown)
    html = render_evidence(payload, current_lang())  # in the language of the page
    names = {s: subject_name(s) for s in subject_ids}
    return Eligibility(result=result, names=names, shown=shown, invalid=invalid,
                       payload=payload, html=html, check_id=issued.id,
                       check_no=issued.check_no, verify_code=issued.verify_code,
                       certificate=issued.certificate)


def verify_certificate(code: str) -> Certificate | None:
    """The certificate with verification code ``code`` (anyone may ask), or ``None``."""
    return verify_code(db_url(), code)


def certificate_pdf(payload: dict[str, Any]) -> bytes:
    """A certificate as PDF."""
    from creditindex.pdf import certificate_pdf as render_pdf

    return render_pdf(payload)


# --------------------------------------------------------------------------------------
# Users
# --------------------------------------------------------------------------------------


def refresh(user: User) -> User:
    """``user`` as the store knows them now: a deactivated account is signed out and a
    changed role takes effect at once."""
    if not user.signed_in:
        return user
    with read_transaction(_engine()) as conn:
        found = find_user(conn, user.username)
    if found is None or not found.active:
        return auth.ANONYMOUS
    return User(username=found.name, role=found.role)


# --------------------------------------------------------------------------------------
# Imports
# --------------------------------------------------------------------------------------


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


Upload = tuple[str, bytes]


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


def validate_upload(user: User, kind: str, uploads: Sequence[Upload],
                    subjects: Upload | None = None) -> ImportReport:
    """Check uploaded files as an import would, without importing anything; raises
    :class:`InputError` with every problem."""
    auth.require(user, Permission.IMPORT)
    with tempfile.TemporaryDirectory(prefix="creditindex-upload-") as tmp:
        folder = Path(tmp)
        paths = _save(folder, uploads)
        try:
            if kind == "lists":
                rows = read_list_entries(paths).height
            else:
                rows = read_records(paths, rules(), today=today()).height if paths else 0
                if subjects is not None:
                    rows += read_subjects(_save(folder / "s", [subjects])[0]).height
        except InputError as exc:
            raise _renamed(exc, folder) from exc
    return ImportReport(checked_only=True, import_id=None, rows=rows)


def import_upload(user: User, kind: str, uploads: Sequence[Upload],
                  subjects: Upload | None = None) -> ImportReport:
    """Import uploaded files into the store as ``user``; raises :class:`InputError`
    with every problem (and imports nothing) when any row is bad."""
    auth.require(user, Permission.IMPORT)
    with tempfile.TemporaryDirectory(prefix="creditindex-upload-") as tmp:
        folder = Path(tmp)
        paths = _save(folder, uploads)
        try:
            if kind == "lists":
                res = import_lists(db_url(), paths, user=user.username)
            else:
                subject_path = None if subjects is None else _save(folder / "s",
                                                                   [subjects])[0]
                res = import_records(db_url(), paths, subjects_path=subject_path,
                                     user=user.username)
        except InputError as exc:
            raise _renamed(exc, folder) from exc
        except StoreError as exc:
            raise ActionError(str(exc)) from exc
        finally:
            changed()
    return ImportReport(checked_only=False, import_id=res.import_id, rows=res.rows,
                        added=res.added, events=res.events, changed=res.changed,
                        subjects_added=res.subjects_added)


def import_batches(user: User, limit: int = 50) -> pl.DataFrame:
    """The latest imports: id, kind, when, by whom, what they added."""
    auth.require(user, Permission.IMPORT)
    b = table("import_batch")
    with read_transaction(_engine()) as conn:
        rows = conn.execute(select(b.c.id, b.c.kind, b.c.at, b.c.by, b.c.added, b.c.changed,
                                   b.c.events).order_by(b.c.id.desc()).limit(limit)).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
        "id": pl.Int64, "kind": pl.String, "at": pl.Datetime("us"), "by": pl.String,
        "added": pl.Int64, "changed": pl.Int64, "events": pl.Int64})


# --------------------------------------------------------------------------------------
# Audit log
# --------------------------------------------------------------------------------------


def audit_log(user: User) -> pl.DataFrame:
    """The whole audit log (staff and regulators only)."""
    auth.require(user, Permission.AUDIT)
    _engine()
    return audit_trail(db_url())


# --------------------------------------------------------------------------------------
# Rule sets
# --------------------------------------------------------------------------------------


def rules_text(on: dt.date | None = None) -> str:
    """The TOML text of the rule set in force on ``on`` (default today)."""
    in_force = rules(on)
    v = table("rule_set_version")
    with read_transaction(_engine()) as conn:
        text = conn.execute(select(v.c.toml_text).where(
            v.c.content_hash == in_force.content_hash)).scalar()
    return str(text) if text is not None else DEFAULT_RULES.read_text(encoding="utf-8")


def rule_versions() -> pl.DataFrame:
    """Every published rule-set version, with the one in force today marked."""
    _engine()
    return list_versions(db_url(), today())


@st.cache_resource(show_spinner=False, max_entries=2)
def _impact(url: str, state: str, draft_hash: str, _draft: RuleSet, on: dt.date,
            known_on: dt.date) -> pl.DataFrame:
    before = rankings(on, known_on)
    base = credit_data(on)
    after = evaluate.compute(CreditData(records=base.records, rules=_draft,
                                        subjects=base.subjects, lists=base.lists,
                                        manual=base.manual), on, known_on)
    return tables.compare(pl.concat(list(before.by_type.values()), how="diagonal_relaxed")
                          .select(evaluate.COMPUTE_COLUMNS), after)


def impact(user: User, draft: RuleSet, on: dt.date, known_on: dt.date) -> pl.DataFrame:
    """Every subject's answer on ``on`` under the rule set in force and under ``draft``
    (see :func:`creditindex.ui.tables.compare`)."""
    auth.require(user, Permission.RULES)
    url = db_url()
    return _impact(url, state(url), draft.content_hash, draft, on, known_on)


# --------------------------------------------------------------------------------------
# A record's life: objections, repair, manual restrictions (staff)
# --------------------------------------------------------------------------------------

RECORD_LIST = ["source", "record_id", "subject_id", "subject_type", "subject_name",
               "behaviour_code", "decided_on", "document_no", "revoked_on", "repaired_on"]


def find_records(user: User, query: str, limit: int = 200) -> pl.DataFrame:
    """Records whose subject code, subject name, record ID or document number contains
    ``query`` (staff only), newest decision first."""
    auth.require(user, Permission.LIFECYCLE)
    q = query.strip().upper()
    if not q:
        return _loaded(db_url(), state()).records.head(0).select(RECORD_LIST)
    records = credit_data().records
    hit = pl.any_horizontal(
        pl.col(c).fill_null("").str.to_uppercase().str.contains(q, literal=True)
        for c in ("subject_id", "subject_name", "record_id", "document_no"))
    return records.filter(hit).sort("decided_on", descending=True).head(limit).select(
        RECORD_LIST)


def events_of(user: User, source: str, record_id: str) -> pl.DataFrame:
    """A record's steps, oldest first (staff only)."""
    auth.require(user, Permission.LIFECYCLE)
    return lifecycle.record_events(db_url(), source, record_id)


def open_objection(events: pl.DataFrame) -> dict[str, Any] | None:
    """The record's objection awaiting a decision, if any."""
    decided = set(events.filter(pl.col("kind") == "objection_decided")
                  .get_column("refers_to").drop_nulls().to_list())
    pending = events.filter((pl.col("kind") == "objection_filed")
                            & ~pl.col("id").is_in(list(decided)))
    return pending.row(-1, named=True) if pending.height else None


def _store_call(user: User, permission: Permission, name: str, *args: Any,
                **kwargs: Any) -> Any:
    """Call the store's lifecycle function ``name`` as ``user`` after the role check."""
    auth.require(user, permission)
    try:
        return getattr(lifecycle, name)(db_url(), *args, user=user.username, **kwargs)
    except StoreError as exc:
        raise ActionError(str(exc)) from exc
    finally:
        changed()


def file_objection(user: User, source: str, record_id: str, on: dt.date, reason: str
                   ) -> int:
    """Register an objection (异议) to a record, as staff."""
    return int(_store_call(user, Permission.LIFECYCLE, "file_objection", source, record_id,
                           reason=reason, on=on))


def decide_objection(user: User, source: str, record_id: str, on: dt.date, upheld: bool,
                     note: str | None, document_no: str | None) -> None:
    """Decide a record's open objection (upheld revokes the record from ``on``)."""
    _store_call(user, Permission.LIFECYCLE, "decide_objection", source, record_id,
                upheld=upheld, on=on, note=note, document_no=document_no)


def apply_repair(user: User, source: str, record_id: str, on: dt.date, note: str | None
                 ) -> None:
    """Register an application for credit repair (信用修复)."""
    _store_call(user, Permission.LIFECYCLE, "apply_repair", source, record_id, on=on,
                note=note)


def grant_repair(user: User, source: str, record_id: str, on: dt.date, note: str | None,
                 document_no: str | None) -> None:
    """Grant credit repair: the record stops counting from ``on``."""
    _store_call(user, Permission.LIFECYCLE, "grant_repair", source, record_id, on=on,
                note=note, document_no=document_no)


def manual_restrictions(user: User) -> pl.DataFrame:
    """Every manual restriction with its end as lifted or amended since (staff only)."""
    auth.require(user, Permission.LIFECYCLE)
    return lifecycle.manual_restrictions(db_url())


def open_steps(user: User) -> pl.DataFrame:
    """Objections awaiting a decision and repair applications not yet granted (staff)."""
    auth.require(user, Permission.LIFECYCLE)
    return lifecycle.open_steps(db_url())


def propose(user: User, kind: str, payload: dict[str, Any], note: str | None = None) -> int:
    """Ask for a change a second person must approve (rule sets: regulators; manual
    restrictions: staff). Returns the request's id."""
    auth.require(user, Permission.RULES if kind == "rules.publish" else Permission.LIFECYCLE)
    try:
        return approvals.propose(db_url(), kind, payload, user=user.username, note=note)
    except StoreError as exc:
        raise ActionError(str(exc)) from exc
    finally:
        changed()


def decide_request(user: User, request_id: int, kind: str, outcome: str,
                   note: str | None = None) -> str | None:
    """Approve, reject or withdraw a request (the store refuses the proposer's own
    approval)."""
    auth.require(user, Permission.RULES if kind == "rules.publish" else Permission.LIFECYCLE)
    try:
        return approvals.decide(db_url(), request_id, user=user.username, outcome=outcome,
                                note=note)
    except StoreError as exc:
        raise ActionError(str(exc)) from exc
    finally:
        changed()


def pending_requests(user: User, kinds: tuple[str, ...]) -> list[approvals.Request]:
    """Requests of ``kinds`` awaiting a decision."""
    auth.require(user, Permission.RULES if kinds == ("rules.publish",)
                 else Permission.LIFECYCLE)
    return approvals.requests(db_url(), kinds=kinds)


def published_notes() -> pl.DataFrame:
    """Every published rule-set version with its publish note."""
    v = table("rule_set_version")
    with read_transaction(_engine()) as conn:
        rows = conn.execute(select(v.c.content_hash, v.c.note)).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row",
                        schema={"content_hash": pl.String, "note": pl.String})
