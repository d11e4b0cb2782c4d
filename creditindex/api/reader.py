"""The store as the API server reads it: one :class:`CreditData` in memory, read again
when the store's data change (asked at most once a second), with the rule set in force
on the day asked, and a few cached day answers (rankings)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import polars as pl

from creditindex import evaluate
from creditindex.evaluate import CreditData
from creditindex.evidence import data_facts
from creditindex.rules import RuleSet
from creditindex.store.db import get_engine, read_transaction
from creditindex.store.load import load_from
from creditindex.store.migrations import ensure_schema
from creditindex.store.rulesets import rules_for
from creditindex.store.state import data_state


class StoreReader:
    """Thread-safe, shared by every request of one server."""

    def __init__(self, url: str, recheck_seconds: float = 1.0) -> None:
        self.url = url
        self.recheck_seconds = recheck_seconds
        self._lock = threading.Lock()
        self._asked_at = -1e9
        self._state = -1
        self._data: CreditData | None = None
        self._rules: dict[tuple[int, dt.date], RuleSet] = {}
        self._answers: OrderedDict[tuple[int, str, dt.date, dt.date], pl.DataFrame] = (
            OrderedDict())
        self._by_subject: pl.DataFrame | None = None
        self._experts: frozenset[str] = frozenset()
        self._facts: dict[str, Any] = {}
        engine = get_engine(url)
        ensure_schema(engine)

    def _current_state(self) -> int:
        now = time.monotonic()
        if now - self._asked_at < self.recheck_seconds and self._state >= 0:
            return self._state
        with read_transaction(get_engine(self.url)) as conn:
            state = data_state(conn)
        self._asked_at = now
        return state

    def data(self, on: dt.date) -> CreditData:
        """Everything the engine reads, with the rule set in force on ``on``."""
        with self._lock:
            state = self._current_state()
            if self._data is None or state != self._state:
                with read_transaction(get_engine(self.url)) as conn:
                    state = data_state(conn)
                    rules = rules_for(conn, None, dt.date.today())
                    self._data = load_from(conn, rules)
                self._state = state
                self._rules.clear()
                self._answers.clear()
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
        keys = data.subject_keys()
        self._experts = frozenset(keys.filter(pl.col("subject_type") == "expert")
                                  .get_column("subject_id").to_list())
        self._facts = data_facts(data)

    def narrowed(self, subject_ids: Sequence[str], on: dt.date
                 ) -> tuple[CreditData, dict[str, Any]]:
        """The data of a few subjects (their records found by binary search instead of a
        scan of every record) with the rule set in force on ``on``, and the facts
        (counts, digests) of everything read."""
        data = self.data(on)
        with self._lock:
            by_subject, facts = self._by_subject, self._facts
        assert by_subject is not None
        column = by_subject.get_column("subject_id")
        ids = list(dict.fromkeys(s.strip().upper() for s in subject_ids))
        wanted = pl.Series(ids, dtype=pl.String)
        lo = column.search_sorted(wanted, side="left").to_list()
        hi = column.search_sorted(wanted, side="right").to_list()
        parts = [by_subject.slice(a, b - a) for a, b in zip(lo, hi, strict=True) if b > a]
        records = pl.concat(parts) if parts else by_subject.head(0)
        keep = pl.col("subject_id").is_in(wanted.implode())
        return CreditData(
            records=records, rules=data.rules,
            subjects=None if data.subjects is None else data.subjects.filter(keep),
            lists=data.lists,
            manual=None if data.manual is None else data.manual.filter(keep)), facts

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
