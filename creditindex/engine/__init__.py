"""The pure engine: records + rules + known-on day -> ledger -> change points -> the day's
answer, restrictions and the daily state. Days are integers (days since 1970-01-01) inside;
nothing here does I/O.

One module per concern, each readable in one sitting:

- :mod:`~creditindex.engine.scoring`: the formula (a day's deduction, index, grade, rank);
- :mod:`~creditindex.engine.codes`: dense integer codes for (subject_id, subject_type);
- :mod:`~creditindex.engine.ledger`: the ledger as arrays (:func:`compile_ledger`) and as
  a frame (:func:`ledger`);
- :mod:`~creditindex.engine.change_points`: change points (:class:`Segments`,
  :func:`timeline_of`);
- :mod:`~creditindex.engine.restrictions`: restrictions found on the arrays;
- :mod:`~creditindex.engine.snapshot`: the day's answer;
- :mod:`~creditindex.engine.daily_state`: the daily update (:func:`start_state`,
  :func:`update`).

The names below are the engine's public face (``engine.X``); the array types and
helpers are imported from their module.
"""

from creditindex.engine.arrays import OPEN_DAY
from creditindex.engine.change_points import Timeline, segments_of, timeline, timeline_of
from creditindex.engine.codes import SUBJECT_KEY, code_chunks, dense_codes, subject_codes
from creditindex.engine.daily_state import DailyState, start_state, update
from creditindex.engine.ledger import LEDGER_SCHEMA, behaviours_frame, compile_ledger, ledger
from creditindex.engine.restrictions import suspension_starts
from creditindex.engine.scoring import (
    deductions_on,
    grade_expr,
    grade_restricted_expr,
    index_expr,
    rank_expr,
    round_half_away,
    scores_on,
)
from creditindex.engine.snapshot import SNAPSHOT_COLUMNS, snapshot

__all__ = [
    "LEDGER_SCHEMA", "OPEN_DAY", "SNAPSHOT_COLUMNS", "SUBJECT_KEY", "DailyState", "Timeline",
    "behaviours_frame", "code_chunks", "compile_ledger", "deductions_on", "dense_codes",
    "grade_expr", "grade_restricted_expr", "index_expr", "ledger", "rank_expr",
    "round_half_away", "scores_on", "segments_of", "snapshot", "start_state",
    "subject_codes", "suspension_starts", "timeline", "timeline_of", "update",
]
