"""The store as the API server reads it: one :class:`CreditData` in memory, read again
when the store's data change (asked at most once a second), with the rule set in force
on the day asked, a few cached day answers (rankings) and the day's checks of every subject
(:mod:`creditindex.api.answers`, computed in the background)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Sequence
from typing import Any

import polars as pl

from creditindex import evaluate
from creditindex.api.answers import DayAnswers, answerable, day_answers, question_key
from creditindex.certificate import CheckRequest
from creditindex.evaluate import CheckResult, CreditData
from creditindex.evidence import data_facts
from creditindex.rules import RuleSet
from creditindex.store.checks import SubjectRows
from creditindex.store.db import get_engine, read_transaction
from creditindex.store.load import load_from
from creditindex.store.migrations import ensure_schema
from creditindex.store.rulesets import rules_for
from creditindex.store.state import data_state

log = logging.getLogger(__name__)
ASKED_BEFORE_COMPUTING = 3  # requests of one question before its day answers are computed


def lists_concerning(lists: pl.DataFrame | None, subject_ids: Sequence[str]
                     ) -> pl.DataFrame | None:
    """The list entries that may concern ``subject_ids`` (normalised codes), as the store
    reads them for a few subjects (:func:`creditindex.store.load.read_lists`): those naming
    one of them by code and those without a code (matched by name); ``None`` if none.
    An entry naming another code is left out: it would add that subject's ground to
    the check."""
    if lists is None:
        return None
    code = pl.col("subject_id").str.strip_chars().str.to_uppercase()
    found = lists.filter(pl.col("subject_id").is_null()
                         | code.is_in(pl.Series(list(subject_ids), dtype=pl.String).implode()))
    return found if found.height else None


class StoreReader:
    """Thread-safe, shared by every request of one server."""

    def __init__(self, url: str, recheck_seconds: float = 1.0,
                 prepare_rows: bool = True) -> None:
        self.url = url
        self.recheck_seconds = recheck_seconds
        # Each subject's rows of a question's day answers made in the background once
        # the answers are (DayAnswers.prepare), not by the first check naming it.
        self.prepare_rows = prepare_rows
        self._lock = threading.Lock()
        self._asked_at = -1e9
        self._state = -1  # the state of the data in memory
        self._seen = -1  # the state last read from the store
        self._data: CreditData | None = None
        self._rules: dict[tuple[int, dt.date], RuleSet] = {}
        self._answers: OrderedDict[tuple[int, str, dt.date, dt.date], pl.DataFrame] = (
            OrderedDict())
        self._by_subject: pl.DataFrame | None = None
        self._experts: frozenset[str] = frozenset()
        self._facts: dict[str, Any] = {}
        self._rows_of: dict[str, tuple[int, int]] = {}
        self._days: OrderedDict[tuple[Any, ...], DayAnswers] = OrderedDict()
        self._computing: set[tuple[Any, ...]] = set()
        self._asked: Counter[tuple[Any, ...]] = Counter()
        engine = get_engine(url)
        ensure_schema(engine)

    def _current_state(self) -> int:
        """The store's data state, read at most once a second (the last one read)."""
        now = time.monotonic()
        if now - self._asked_at < self.recheck_seconds and self._seen >= 0:
            return self._seen
        with read_transaction(get_engine(self.url)) as conn:
            self._seen = data_state(conn)
        self._asked_at = now
        return self._seen

    def data(self, on: dt.date) -> CreditData:
        """Everything the engine reads, with the rule set in force on ``on``."""
        with self._lock:
            state = self._current_state()
            if self._data is None or state != self._state:
                with read_transaction(get_engine(self.url)) as conn:
                    state = data_state(conn)
                    rules = rules_for(conn, None, dt.date.today())
                    self._data = load_from(conn, rules)
                self._state = self._seen = state
                self._rules.clear()
                self._answers.clear()
                self._days.clear()
                self._asked.clear()
                self._index(self._data)
            key = (state, on)
            found = self._rules.get(key)
            if found is None:
                with read_transaction(get_engine(self.url)) as conn:
                    found = rules_for(conn, None, on)
                self._rules[key] = found
            rules = found
            data = self._data
        if rules.content_hash == data.rules.content_hash:
            return data
        return CreditData(records=data.records, rules=rules, subjects=data.subjects,
                          lists=data.lists, manual=data.manual)

    def _index(self, data: CreditData) -> None:
        """Records grouped by subject (stable sort: a subject's rows keep their order),
        the experts' codes and the digests of what was read."""
        self._by_subject = data.records.sort("subject_id", maintain_order=True)
        runs = self._by_subject.with_row_index("_at").group_by("subject_id").agg(
            pl.col("_at").min(), pl.len())
        self._rows_of = {s: (int(a), int(n)) for s, a, n in runs.iter_rows()}
        keys = data.subject_keys()
        self._experts = frozenset(keys.filter(pl.col("subject_type") == "expert")
                                  .get_column("subject_id").to_list())
        self._facts = data_facts(data)

    def narrowed(self, subject_ids: Sequence[str], on: dt.date
                 ) -> tuple[CreditData, dict[str, Any]]:
        """The data of a few subjects (their records found by position instead of a scan
        of every record) with the rule set in force on ``on``, and the facts
        (counts, digests) of everything read."""
        data = self.data(on)
        with self._lock:
            by_subject, facts, rows_of = self._by_subject, self._facts, self._rows_of
        assert by_subject is not None
        ids = list(dict.fromkeys(s.strip().upper() for s in subject_ids))
        wanted = pl.Series(ids, dtype=pl.String)
        parts = [by_subject.slice(*rows_of[s]) for s in ids if s in rows_of]
        records = pl.concat(parts) if parts else by_subject.head(0)
        keep = pl.col("subject_id").is_in(wanted.implode())
        return CreditData(
            records=records, rules=data.rules,
            subjects=None if data.subjects is None else data.subjects.filter(keep),
            lists=lists_concerning(data.lists, ids),
            manual=None if data.manual is None else data.manual.filter(keep)), facts

    def warm(self) -> None:
        """Read the store and start computing today's answers (a server does this when
        it starts, so that its first requests do not wait for it)."""
        try:
            self.answered(CheckRequest(subject_ids=(), on=dt.date.today()), start_after=1)
        except Exception:  # the first request will try again and answer the error
            log.exception("could not read the store")

    def answered(self, request: CheckRequest, start_after: int = ASKED_BEFORE_COMPUTING
                 ) -> CheckResult | None:
        """The engine's answer for the members of ``request`` from the day's answers
        (:mod:`creditindex.api.answers`), or ``None``: answer it with the engine. A
        question asked ``start_after`` times starts computing its answers in the
        background (one question at a time: questions that each come once, a day in
        the past say, never cost a computation of every subject)."""
        if not answerable(request):
            return None
        data = self.data(request.on)
        key = (self._state, data.rules.content_hash, *question_key(request))
        with self._lock:
            found = self._days.get(key)
            self._asked[key] += found is None
            if (found is None and not self._computing
                    and self._asked[key] >= start_after):
                self._computing.add(key)
                threading.Thread(target=self._compute_day, args=(key, data, request),
                                 name="api-day-answers", daemon=True).start()
        return None if found is None else found.answer(request.ids)

    def answers_ready(self, request: CheckRequest) -> bool:
        """Whether ``request`` is answered from memory now, without reading the store
        (but for the once-a-second look at its state): the store read and unchanged, the
        rule set of the day known and the question's day answers covering every code
        asked. Such a check costs a few milliseconds of CPU (the server answers it on its
        event loop, :mod:`creditindex.api.app`)."""
        if not answerable(request):
            return False
        with self._lock:
            if self._data is None or self._current_state() != self._state:
                return False
            rules = self._rules.get((self._state, request.on))
            if rules is None:
                return False
            found = self._days.get((self._state, rules.content_hash, *question_key(request)))
        return found is not None and found.covers(request.ids)

    def answered_rows(self, request: CheckRequest
                      ) -> tuple[list[SubjectRows], DayAnswers, RuleSet, dict[str, Any]] | None:
        """Each subject's part of a check of ``request`` from the question's day
        answers (:meth:`DayAnswers.subject_rows`), with those answers, the rule set in
        force and the facts of the data read; ``None`` unless :meth:`answers_ready`."""
        if not answerable(request):
            return None
        with self._lock:
            if self._data is None or self._current_state() != self._state:
                return None
            rules = self._rules.get((self._state, request.on))
            if rules is None:
                return None
            found = self._days.get((self._state, rules.content_hash, *question_key(request)))
            facts = self._facts
        if found is None:
            return None
        parts = found.subject_rows(request.ids)
        return None if parts is None else (parts, found, rules, facts)

    def _compute_day(self, key: tuple[Any, ...], data: CreditData,
                     request: CheckRequest) -> None:
        try:
            answers = day_answers(data, request)
            with self._lock:
                if key[0] == self._state:
                    self._days[key] = answers
                    while len(self._days) > 4:
                        self._days.popitem(last=False)
            if self.prepare_rows:
                # One question's rows made ahead (some 7 kB a subject: 450 MB for the
                # 60,000 subjects of a million records); another's are made when asked.
                with self._lock:
                    others = [d for d in self._days.values() if d is not answers]
                for other in others:
                    other.forget_rows()
                answers.prepare()
        except Exception:  # requests keep being answered by the engine
            log.exception("could not compute the day's answers for %s", key[2:])
        finally:
            with self._lock:
                self._computing.discard(key)

    def compute(self, on: dt.date, known_on: dt.date) -> pl.DataFrame:
        """Every subject's answer on a day (cached: the four latest days asked)."""
        data = self.data(on)
        key = (self._state, data.rules.content_hash, on, known_on)
        with self._lock:
            found = self._answers.get(key)
        if found is not None:
            return found
        answer = evaluate.compute(data, on, known_on)
        with self._lock:
            self._answers[key] = answer
            while len(self._answers) > 4:
                self._answers.popitem(last=False)
        return answer

    def roles_of(self, subject_id: str) -> list[str]:
        """The roles a subject has in the store (records or registration)."""
        data = self.data(dt.date.today())
        keys = data.for_subjects([subject_id]).subject_keys()
        return sorted(keys.get_column("subject_type").to_list())

    def known_experts(self, subject_ids: list[str]) -> list[str]:
        """Which of ``subject_ids`` the store knows as experts."""
        self.data(dt.date.today())
        with self._lock:
            experts = self._experts
        return sorted(s for s in set(subject_ids) if s in experts)
