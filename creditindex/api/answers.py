"""The day's answers of the API server: every stored subject checked at once for one
question (day, knowledge day, role, category, financier), so that a check of a few
subjects is a lookup instead of an engine run.

A looked-up answer must be the very frames the engine gives for the subjects asked alone
(:func:`creditindex.certificate.run_check` on the narrowed data). Each subject's rows do
not depend on the other subjects asked, except where the engine's order is not fixed by
its sort keys: two grounds of a subject equal in every key of
:data:`creditindex.evaluate.GROUND_ORDER`, or two names a subject goes by. (Of several
roles the lowest index is taken; its grade follows from the index alone, so a tie
between roles gives the same row.) Such subjects are left out of
:attr:`DayAnswers.exact`, and a request naming one is answered by the engine
(:meth:`DayAnswers.answer` returns ``None``). A code the data do not name anywhere (no
record, registration, list entry or manual restriction) has the answer of any such code:
full marks, no grounds.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from creditindex.certificate import CheckRequest, GroundWords, engine_check, record_facts
from creditindex.evaluate import GROUND_ORDER, CheckResult, CreditData
from creditindex.store.checks import SubjectRows, subject_rows

# A code no data name (not a valid code): its answer is every unknown code's answer.
ABSENT = "~ABSENT~"


@dataclass(frozen=True)
class DayAnswers:
    """Every subject's answer to one question: the engine's frames and where each
    subject's rows are."""

    result: CheckResult
    rows: dict[str, int]
    grounds: dict[str, tuple[int, int]]
    exact: frozenset[str]
    # What a certificate says of a subject besides the engine's rows: the names of
    # subjects the answer does not name, the facts of the grounds' records, the rule
    # set's words (see :meth:`subject_rows`).
    names: dict[str, str] = field(default_factory=dict)
    facts: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    words: GroundWords | None = None
    _parts: dict[str, SubjectRows] = field(default_factory=dict, repr=False)

    def covers(self, subject_ids: Sequence[str]) -> bool:
        """Whether :meth:`answer` answers ``subject_ids`` (none of them must go to the
        engine)."""
        return bool(subject_ids) and not any(s in self.rows and s not in self.exact
                                             for s in subject_ids)

    def answer(self, subject_ids: Sequence[str]) -> CheckResult | None:
        """The engine's answer for ``subject_ids`` (normalised, each once, in the order
        asked), or ``None`` when one of them must be answered by the engine. A code the
        data do not know at all gets the answer of :data:`ABSENT` under its own code."""
        if not self.covers(subject_ids):
            return None
        absent = self.rows[ABSENT]
        table = self.result.table[[self.rows.get(s, absent) for s in subject_ids]]
        table.replace_column(table.get_column_index("subject_id"),  # a new frame: in place
                             pl.Series("subject_id", subject_ids, dtype=pl.String))
        parts = [self.result.grounds.slice(*self.grounds[s]) for s in sorted(subject_ids)
                 if s in self.grounds]
        grounds = pl.concat(parts) if parts else self.result.grounds.head(0)
        return CheckResult(table=table, grounds=grounds, on=self.result.on,
                           known_on=self.result.known_on)

    def subject_rows(self, subject_ids: Sequence[str]) -> list[SubjectRows] | None:
        """Each subject's part of a check (:class:`~creditindex.store.checks.
        SubjectRows`, in the order asked), made the first time a subject is asked and
        kept; ``None`` when one of them must be answered by the engine. Put together by
        :func:`~creditindex.store.checks.draft_from_rows`, they make the payloads
        :func:`~creditindex.store.checks.draft_check` makes of :meth:`answer`'s frames."""
        if self.words is None or not self.covers(subject_ids):
            return None
        parts = []
        for sid in subject_ids:
            found = self._parts.get(sid)
            if found is None:
                found = self._make_rows(sid)
                self._parts[sid] = found  # a race makes the same rows twice: harmless
            parts.append(found)
        return parts

    def prepare(self, chunk: int = 200, pause: float = 0.001) -> int:
        """Make the rows of every subject the answers hold (:meth:`subject_rows`) ahead
        of its first check, ``chunk`` subjects at a time with a ``pause`` between (the
        server's requests keep being answered meanwhile); how many were made. Under
        load most checks named subjects not asked before, and making their rows was
        the largest part of a check's CPU (profiled: a quarter of the event loop's)."""
        if self.words is None:
            return 0
        made = 0
        for subject_id in sorted(self.exact):
            if subject_id in self._parts:
                continue
            self._parts[subject_id] = self._make_rows(subject_id)
            made += 1
            if made % chunk == 0:
                time.sleep(pause)
        return made

    def forget_rows(self) -> None:
        """Drop the subjects' rows made so far (they are made again when asked)."""
        self._parts.clear()

    def _make_rows(self, subject_id: str) -> SubjectRows:
        if subject_id not in self.rows:  # a code no data name: the answer of any such
            absent = self._parts.get(ABSENT) or self._make_rows(ABSENT)
            self._parts[ABSENT] = absent
            return absent.named(subject_id)
        assert self.words is not None
        row = self.result.table.row(self.rows[subject_id], named=True)
        at = self.grounds.get(subject_id)
        grounds = [] if at is None else self.result.grounds.slice(*at).to_dicts()
        facts = self.facts

        def record(g: dict[str, Any]) -> dict[str, Any]:
            return facts.get((str(g.get("source")), str(g.get("record_id"))), {})

        return subject_rows(row, grounds, self.names.get(subject_id), record, self.words)


def question_key(request: CheckRequest) -> tuple[object, ...]:
    """What, besides the subjects, decides an answer (requests with the same key share
    :class:`DayAnswers`)."""
    return (request.on, request.known_on, request.subject_type, request.category,
            request.financier)


def answerable(request: CheckRequest) -> bool:
    """Whether day answers may answer ``request``: no names given with the codes (they
    add subjects to the data) and not a consortium (its row is the engine's)."""
    return not request.names and not request.countries and not request.consortium


def day_answers(data: CreditData, request: CheckRequest) -> DayAnswers:
    """Every subject of ``data`` checked for the question of ``request``."""
    keys = data.subject_keys()
    known = [keys.get_column("subject_id")]
    for frame in (data.lists, data.manual):  # a listed or restricted code, even unknown
        if frame is not None:
            known.append(frame.get_column("subject_id").drop_nulls()
                         .str.strip_chars().str.to_uppercase())
    ids = pl.concat(known).unique().sort().to_list()
    assert ABSENT not in ids
    result = engine_check(data, request, [*ids, ABSENT])
    rows = {s: i for i, s in enumerate(result.table.get_column("subject_id").to_list())}
    grounds = result.grounds.with_row_index("_at").group_by("subject_id").agg(
        pl.col("_at").min().alias("first"), pl.len().alias("n"))
    # The engine sorts grounds by subject first: each subject's grounds are one run.
    where = {s: (int(a), int(n)) for s, a, n in grounds.iter_rows()}
    # Grounds are sorted on these keys (``evaluate.check``); only rows equal in all of
    # them keep an order that may depend on the other subjects asked.
    tied = result.grounds.group_by(*GROUND_ORDER).len().filter(
        pl.col("len") > 1).get_column("subject_id")
    named = data.names().group_by("subject_id").agg(
        pl.col("subject_name").n_unique().alias("n")).filter(pl.col("n") > 1
                                                             ).get_column("subject_id")
    unsure = set(tied.to_list()) | set(named.to_list())
    table = result.table
    nameless = table.filter(pl.col("subject_name").is_null() | (pl.col("subject_name") == "")
                            ).get_column("subject_id") if "subject_name" in table.columns \
        else table.get_column("subject_id")
    return DayAnswers(result, rows, where, frozenset(s for s in rows if s not in unsure),
                      names=latest_names(data, nameless.to_list()),
                      facts=record_facts(data, result.grounds),
                      words=GroundWords.of(data.rules))


def latest_names(data: CreditData, subject_ids: list[str]) -> dict[str, str]:
    """The name a certificate gives each of ``subject_ids`` when the answer names none:
    the first of its latest names in the data (:func:`creditindex.certificate._names`
    for a subject asked alone)."""
    wanted = [s for s in subject_ids if s != ABSENT]
    if not wanted:
        return {}
    found: dict[str, str] = {}
    names = data.for_subjects(wanted).names().filter(pl.col("latest"))
    for sid, name in names.select("subject_id", "subject_name").iter_rows():
        if name and sid not in found:
            found[sid] = str(name)
    return found
