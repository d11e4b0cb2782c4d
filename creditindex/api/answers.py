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

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from creditindex.certificate import CheckRequest, engine_check
from creditindex.evaluate import GROUND_ORDER, CheckResult, CreditData

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
    return DayAnswers(result, rows, where, frozenset(s for s in rows if s not in unsure))
