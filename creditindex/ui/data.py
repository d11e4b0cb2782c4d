"""The app's caches over the service layer (:mod:`creditindex.service`): everything a
page reads or changes goes through here, so that answers are computed once per
(database state, rule-set hash, day, known-on day) and shared by every session.

The store's data are cached per database state (:func:`creditindex.service.state.state`:
every change to the store writes an audit-log row); the functions here only key the
caches, pass the store's URL and what is cached to the service, and warm the caches in
the background. What is computed, checked, masked and refused is the service's.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

import polars as pl
import streamlit as st

from creditindex.evaluate import CreditData
from creditindex.evidence import ANONYMOUS_PREFIX as ANONYMOUS_PREFIX
from creditindex.rules import RuleSet
from creditindex.service import (
    checks,
    days,
    imports,
    masking,
    profiles,
    records,
    rulesets,
    users,
)
from creditindex.service import state as store_state
from creditindex.service.auth import ANONYMOUS, Permission, User, require
from creditindex.service.checks import Eligibility as Eligibility
from creditindex.service.days import Rankings as Rankings
from creditindex.service.imports import ImportReport as ImportReport
from creditindex.service.imports import Upload as Upload
from creditindex.service.profiles import Profile as Profile
from creditindex.service.state import ActionError as ActionError
from creditindex.service.state import changed as changed
from creditindex.store.approvals import Request
from creditindex.store.checks import Certificate
from creditindex.store.day_pages import DayPage
from creditindex.store.db import default_url
from creditindex.store.load import load_data
from creditindex.store.sample import DEMO_USERS as DEMO_USERS
from creditindex.store.sample import build_sample as build_store_sample
from creditindex.ui.i18n import current_lang

_setup_lock = threading.Lock()


def today() -> dt.date:
    """Today on the server: the service's one clock (:func:`creditindex.service.state.today`),
    read when asked."""
    return store_state.today()


# --------------------------------------------------------------------------------------
# Where the data is, and the bundled sample
# --------------------------------------------------------------------------------------


def db_url() -> str:
    """The store's URL: ``CREDITINDEX_DB``, else the project's SQLite file."""
    return default_url()


def build_sample(url: str) -> None:
    """Fill an empty store with the bundled sample and the demo accounts (only when
    asked for: ``creditindex db sample``, the demo script, the tests; never on start)."""
    build_store_sample(url, today=today())


@st.cache_resource(show_spinner=False)
def _ready(url: str, warm: bool) -> bool:
    with _setup_lock:
        store_state.ready_engine(url)  # the schema on first use; nothing else is written
    if warm:
        threading.Thread(target=_warm, args=(url,), name="creditindex-warm-up",
                         daemon=True).start()
    return True


# Set once a first page has been sent: the work in the background waits for it (at most
# FIRST_PAGE_WAIT seconds), then FIRST_PAGE_DRAW seconds more while the browser draws
# the page (a second or so on a busy 2-core machine), so that the first visitor's page
# does not share the CPU with loading the whole day.
_first_shown = threading.Event()
FIRST_PAGE_WAIT = 15.0
FIRST_PAGE_DRAW = float(os.environ.get("CREDITINDEX_FIRST_PAGE_DRAW", "3.0"))


def first_page_shown() -> None:
    """Tell the work in the background that a first page has been sent."""
    _first_shown.set()


def _after_first_page() -> None:
    """Wait until the first page is on screen (or for FIRST_PAGE_WAIT seconds)."""
    if _first_shown.wait(FIRST_PAGE_WAIT):
        time.sleep(FIRST_PAGE_DRAW)


def _warm(url: str) -> None:
    """Compute today's rankings, industries and subject directory of the store at ``url``
    in the background once the server has its first session (and its first page is
    shown), so that later visitors find them ready (a million subjects take a while).
    The store is the one the server started with, even if the setting changes since."""
    _after_first_page()
    try:
        rankings(today(), url=url)
        industries(url)
        directory(url)
    except Exception:  # a warm-up that fails leaves the work to the first visitor
        logging.getLogger(__name__).exception("warm-up failed")


def ensure_ready() -> None:
    """Make sure the store can be read (an empty store gets its schema, nothing more: the
    sample and the demo accounts exist only when asked for). A server (not a test) then
    warms its caches in the background."""
    _ready(db_url(), warm=not st.get_option("global.appTest"))


def state(url: str | None = None) -> str:
    """The store's state token (:func:`creditindex.service.state.state`)."""
    return store_state.state(url or db_url())


@st.cache_resource(show_spinner=False, max_entries=4, ttl=60)
def _store_kind(url: str, state: str) -> str:
    return store_state.store_kind(url)


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
    return rulesets.rules_in_force(url, day)


def _credit_data(url: str, token: str, on: dt.date) -> CreditData:
    return days.with_rules(_loaded(url, token), _rules_on(url, token, on))


def credit_data(on: dt.date | None = None) -> CreditData:
    """Everything the engine reads, as the store holds it now, with the rule set in force
    on ``on`` (default today)."""
    url = db_url()
    return _credit_data(url, state(url), on or today())


def rules(on: dt.date | None = None, url: str | None = None) -> RuleSet:
    """The rule set in force on ``on`` (default today) in the store at ``url`` (default
    :func:`db_url`)."""
    url = url or db_url()
    return _rules_on(url, state(url), on or today())


@st.cache_resource(show_spinner=False, max_entries=4)
def _rankings(url: str, state: str, rules_hash: str, on: dt.date, known_on: dt.date
              ) -> Rankings:
    return days.rankings(url, state, _credit_data(url, state, on), on, known_on)


def rankings(on: dt.date, known_on: dt.date | None = None, url: str | None = None
             ) -> Rankings:
    """Every subject's index, grade, rank and restriction on ``on`` as known on
    ``known_on`` (:func:`creditindex.service.days.rankings`) in the store at ``url``
    (default :func:`db_url`): computed once per (database state, rule-set hash, day,
    known-on day) and shared by every session (frames are never changed in place)."""
    url = url or db_url()
    token = state(url)
    key = (url, token, rules(on, url).content_hash, on, known_on or on)
    found = _rankings(*key)
    _in_memory.add(key)
    return found


# Days of fewer subjects load whole at once (a second or two): no first page alone.
# (Both settings can be changed in the environment, as the end-to-end test does to see
# a small store's first page alone.)
FIRST_PAGE_FROM = int(os.environ.get("CREDITINDEX_FIRST_PAGE_FROM", "100000"))
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
    key = (url, token, rules(on, url).content_hash, on, on)
    if key in _in_memory:
        return None
    page = _first_page(url, token, key[2], on, subject_type, size, FIRST_PAGE_FROM)
    if page is not None and key not in _loading:
        _loading.add(key)
        threading.Thread(target=_load_day, args=(url, on), daemon=True,
                         name="creditindex-rankings").start()
    return page


def day_loaded(on: dt.date) -> bool:
    """Whether the whole day ``on`` (as known that day) is in this server's memory."""
    url = db_url()
    return (url, state(url), rules(on, url).content_hash, on, on) in _in_memory


def _load_day(url: str, on: dt.date) -> None:
    _after_first_page()
    try:
        rankings(on, url=url)
    except Exception:  # the next visitor's page loads it instead
        logging.getLogger(__name__).exception("loading the day failed")


@st.cache_resource(show_spinner=False, max_entries=16)
def _first_page(url: str, state: str, rules_hash: str, on: dt.date, subject_type: str,
                size: int, min_subjects: int) -> DayPage | None:
    return days.first_page(url, state, rules_hash, on, subject_type, size, min_subjects)


@st.cache_resource(show_spinner=False, max_entries=2)
def _industries(url: str, state: str) -> pl.DataFrame:
    return _loaded(url, state).records.select("subject_id", "industry", "recorded_on")


def subjects_in_industries(industries: Sequence[str], known_on: dt.date) -> pl.Series:
    """Subject IDs with a penalty record known on ``known_on`` in any of ``industries``."""
    url = db_url()
    return days.subjects_in_industries(_industries(url, state(url)), industries, known_on)


@st.cache_resource(show_spinner=False, max_entries=2)
def _industry_list(url: str, state: str) -> list[str]:
    return days.industry_list(url)


def industries(url: str | None = None) -> list[str]:
    """Industries of the records held (in the store at ``url``, default :func:`db_url`)."""
    url = url or db_url()
    return _industry_list(url, state(url))


@st.cache_resource(show_spinner=False, max_entries=2)
def _directory(url: str, state: str) -> pl.DataFrame:
    return days.directory(_loaded(url, state))


def directory(url: str | None = None) -> pl.DataFrame:
    """Every subject with its latest name (:func:`creditindex.service.days.directory`) in
    the store at ``url`` (default :func:`db_url`)."""
    url = url or db_url()
    return _directory(url, state(url))


def find_subjects(query: str, subject_type: str | None = None, limit: int = 50,
                  user: User | None = None) -> pl.DataFrame:
    """Subjects whose name or code contains ``query``
    (:func:`creditindex.service.days.find_subjects`)."""
    return days.find_subjects(directory(), query, subject_type, limit, user)


def subject_name(subject_id: str, subject_type: str | None = None) -> str:
    """A subject's latest name ('' when unknown)."""
    return days.subject_name(directory(), subject_id, subject_type)


def subject_types_of(subject_id: str) -> list[str]:
    """The roles a subject has."""
    return days.subject_types_of(directory(), subject_id)


def behaviour_names(lang: str, on: dt.date | None = None) -> dict[str, str]:
    """Behaviour codes with their names in ``lang`` (the rule set in force on ``on``)."""
    return profiles.behaviour_names(rules(on), lang)


def grounds_for(subject_ids: Sequence[str], on: dt.date, known_on: dt.date
                ) -> pl.DataFrame:
    """Every restriction ground in force on ``on`` of a few subjects (a page of rows),
    read by index (:func:`creditindex.service.profiles.grounds_for`)."""
    return profiles.grounds_for(db_url(), subject_ids, on, known_on)


visible_types = profiles.visible_types
may_see = profiles.may_see


def profile(subject_id: str, subject_type: str, on: dt.date, known_on: dt.date,
            start: dt.date, fixed_knowledge: bool, user: User | None = None) -> Profile:
    """A subject's profile (:func:`creditindex.service.profiles.profile`)."""
    return profiles.profile(
        db_url(), credit_data(on), rankings(on, known_on).of(subject_type),
        subject_name(subject_id, subject_type), subject_id, subject_type, on, known_on,
        start, fixed_knowledge, user or ANONYMOUS)


def record_events(subject_id: str, subject_type: str | None = None,
                  known_on: dt.date | None = None) -> pl.DataFrame:
    """Objections, rulings, revocations and repairs of a subject's records, newest
    first."""
    return profiles.record_events(db_url(), subject_id, subject_type, known_on)


def show_id(value: str, shown: dict[str, str]) -> str:
    """An identifier (or a consortium's ``A+B``) as shown publicly."""
    return masking.show_id(value, shown)


def check(user: User, subject_ids: list[str], on: dt.date, known_on: dt.date,
          subject_type: str | None, consortium: bool, anonymous_id: str = "anonymous:-"
          ) -> Eligibility:
    """An eligibility check issued by the app (:func:`creditindex.service.checks.check`),
    its evidence report in the language of the page."""
    require(user, Permission.VIEW)
    return checks.check(db_url(), credit_data(on), directory(), user, subject_ids, on,
                        known_on, subject_type, consortium, current_lang(), anonymous_id)


def verify_certificate(code: str) -> Certificate | None:
    """The certificate with verification code ``code`` (anyone may ask), or ``None``."""
    return checks.verify_certificate(db_url(), code)


certificate_pdf = checks.certificate_pdf


# --------------------------------------------------------------------------------------
# Users, imports, the audit log, rule sets
# --------------------------------------------------------------------------------------


def refresh(user: User) -> User:
    """``user`` as the store knows them now (:func:`creditindex.service.users.refresh`)."""
    return users.refresh(db_url(), user)


def validate_upload(user: User, kind: str, uploads: Sequence[Upload],
                    subjects: Upload | None = None) -> ImportReport:
    """Check uploaded files as an import would, without importing anything."""
    return imports.validate_upload(user, kind, uploads, rules(), today(), subjects)


def import_upload(user: User, kind: str, uploads: Sequence[Upload],
                  subjects: Upload | None = None) -> ImportReport:
    """Import uploaded files into the store as ``user``."""
    return imports.import_upload(db_url(), user, kind, uploads, subjects)


def import_batches(user: User, limit: int = 50) -> pl.DataFrame:
    """The latest imports."""
    return imports.import_batches(db_url(), user, limit)


def audit_log(user: User) -> pl.DataFrame:
    """The whole audit log (staff and regulators only)."""
    return users.audit_log(db_url(), user)


def rules_text(on: dt.date | None = None) -> str:
    """The TOML text of the rule set in force on ``on`` (default today)."""
    return rulesets.rules_text(db_url(), rules(on))


def rule_versions() -> pl.DataFrame:
    """Every published rule-set version, with the one in force today marked."""
    return rulesets.rule_versions(db_url(), today())


def published_notes() -> pl.DataFrame:
    """Every published rule-set version with its publish note."""
    return rulesets.published_notes(db_url())


@st.cache_resource(show_spinner=False, max_entries=2)
def _impact(url: str, state: str, draft_hash: str, _draft: RuleSet, on: dt.date,
            known_on: dt.date) -> pl.DataFrame:
    return rulesets.impact(rankings(on, known_on), credit_data(on), _draft, on, known_on)


def impact(user: User, draft: RuleSet, on: dt.date, known_on: dt.date) -> pl.DataFrame:
    """Every subject's answer on ``on`` under the rule set in force and under ``draft``
    (:func:`creditindex.service.rulesets.impact`), regulators only."""
    require(user, Permission.RULES)
    url = db_url()
    return _impact(url, state(url), draft.content_hash, draft, on, known_on)


# --------------------------------------------------------------------------------------
# A record's life: objections, repair, manual restrictions (staff)
# --------------------------------------------------------------------------------------


def find_records(user: User, query: str, limit: int = 200) -> pl.DataFrame:
    """Records whose subject code, subject name, record ID or document number contains
    ``query`` (staff only), newest decision first."""
    require(user, Permission.LIFECYCLE)
    return records.find_records(user, credit_data().records, query, limit)


def events_of(user: User, source: str, record_id: str) -> pl.DataFrame:
    """A record's steps, oldest first (staff only)."""
    return records.events_of(db_url(), user, source, record_id)


open_objection = records.open_objection


def file_objection(user: User, source: str, record_id: str, on: dt.date, reason: str
                   ) -> int:
    """Register an objection (异议) to a record, as staff."""
    return records.file_objection(db_url(), user, source, record_id, on, reason)


def decide_objection(user: User, source: str, record_id: str, on: dt.date, upheld: bool,
                     note: str | None, document_no: str | None) -> None:
    """Decide a record's open objection (upheld revokes the record from ``on``)."""
    records.decide_objection(db_url(), user, source, record_id, on, upheld, note,
                             document_no)


def apply_repair(user: User, source: str, record_id: str, on: dt.date, note: str | None
                 ) -> None:
    """Register an application for credit repair (信用修复)."""
    records.apply_repair(db_url(), user, source, record_id, on, note)


def grant_repair(user: User, source: str, record_id: str, on: dt.date, note: str | None,
                 document_no: str | None) -> None:
    """Grant credit repair: the record stops counting from ``on``."""
    records.grant_repair(db_url(), user, source, record_id, on, note, document_no)


def manual_restrictions(user: User) -> pl.DataFrame:
    """Every manual restriction with its end as lifted or amended since (staff only)."""
    return records.manual_restrictions(db_url(), user)


def open_steps(user: User) -> pl.DataFrame:
    """Objections awaiting a decision and repair applications not yet granted (staff)."""
    return records.open_steps(db_url(), user)


def propose(user: User, kind: str, payload: dict[str, Any], note: str | None = None) -> int:
    """Ask for a change a second person must approve. Returns the request's id."""
    return records.propose(db_url(), user, kind, payload, note)


def decide_request(user: User, request_id: int, kind: str, outcome: str,
                   note: str | None = None) -> str | None:
    """Approve, reject or withdraw a request."""
    return records.decide_request(db_url(), user, request_id, kind, outcome, note)


def pending_requests(user: User, kinds: tuple[str, ...]) -> list[Request]:
    """Requests of ``kinds`` awaiting a decision."""
    return records.pending_requests(db_url(), user, kinds)
