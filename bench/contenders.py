"""The three contenders, each computing the same things from the same canonical records:

* ``engine``: creditindex's engine (integer subject codes, sorted single-key layouts,
  change-point arithmetic);
* ``duckdb``: the SQL a trading centre would write in its database (records in a native
  DuckDB table, the rule catalogue joined as a small table);
* ``pandas``: the same steps in plain pandas.

Every rule of docs/semantics.md §4-§6 that the workload touches is expressed by all three: known-on
filtering, revocation, repair (with the minimum publication period), cross-source copies
of one act, repeat escalation, step and linear decay, the floor, grades, ranks, behaviour
restrictions, restricted grades in any role and expert suspensions.

Tasks: ``timeline`` (every change point of every subject, with the index and grade at its
start) and ``snapshot`` (one day's deduction, index, grade, rank and restriction for every
subject found in the records).
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd
import polars as pl

from creditindex import engine
from creditindex.rules import RuleSet

# The columns every task reads (all contenders get the same projection).
COLUMNS = ["record_id", "source", "subject_id", "subject_type", "behaviour_code",
           "decided_on", "recorded_on", "document_no", "revoked_on", "repaired_on",
           "restrict_until"]
TIMELINE_KEY = ["subject_id", "subject_type", "start"]
SNAPSHOT_KEY = ["subject_id", "subject_type"]


def behaviours(rules: RuleSet) -> pl.DataFrame:
    """The rule catalogue as a small table (nulls where a rule has no value): the engine's
    own catalogue frame under the plain column names the SQL and pandas code use."""
    return engine.behaviours_frame(rules).rename(
        {"_points": "points", "_restrict_days": "restrict_days", "_repeat_days": "repeat_days",
         "_repeat_factor": "repeat_factor", "_min_publish": "min_publish"})


# ---------------------------------------------------------------------------------------
# engine
# ---------------------------------------------------------------------------------------


def engine_timeline(records: pl.DataFrame, rules: RuleSet, known_on: int) -> engine.Timeline:
    """Every change point as known on ``known_on``, in the engine's own layout (a subject
    table and integer-coded change points grouped by subject); ``.frame(rules)`` exports
    it as a polars frame with string keys."""
    return engine.timeline_of(records, rules, known_on)


def engine_snapshot(records: pl.DataFrame, rules: RuleSet, day: int) -> pl.DataFrame:
    """Every subject's evaluation on ``day``."""
    return engine.snapshot(records, rules, day)


# ---------------------------------------------------------------------------------------
# DuckDB
# ---------------------------------------------------------------------------------------


def _grade_case(rules: RuleSet, index: str) -> str:
    whens = " ".join(f"WHEN {index} >= {float(g.min)!r} THEN '{g.name}'"
                     for g in rules.grade)
    return f"CASE {whens} ELSE '{rules.grade[-1].name}' END"


def _restricted_grades(rules: RuleSet) -> str:
    names = [f"'{g.name}'" for g in rules.grade if g.restricted] or ["NULL"]
    return ", ".join(names)


def _round_sql(x: str) -> str:
    return f"(sign({x}) * floor(abs({x}) * 100 + 0.5 + 1e-9) / 100)"


def duck_load(con: duckdb.DuckDBPyConnection, records: pl.DataFrame, rules: RuleSet) -> None:
    """Load the records and the rule catalogue into native DuckDB tables."""
    arrow_records = records.to_arrow()
    con.register("records_in", arrow_records)
    con.execute("CREATE OR REPLACE TABLE records AS SELECT * FROM records_in")
    con.unregister("records_in")
    arrow_rules = behaviours(rules).to_arrow()
    con.register("rules_in", arrow_rules)
    con.execute("CREATE OR REPLACE TABLE behaviours AS SELECT * FROM rules_in")
    con.unregister("rules_in")


def ledger_sql(known_on: int) -> str:
    """The ledger as known on ``known_on``: one row per counted record."""
    k = int(known_on)
    day = "- DATE '1970-01-01'"
    return f"""
    WITH known AS (
      SELECT subject_id, subject_type, behaviour_code, source, record_id, document_no,
             (decided_on {day})::INTEGER AS decided,
             (recorded_on {day})::INTEGER AS recorded,
             CASE WHEN repaired_on {day} <= {k} THEN (repaired_on {day})::INTEGER END
               AS repaired,
             (restrict_until {day})::INTEGER AS until
      FROM records
      WHERE recorded_on {day} <= {k} AND (revoked_on IS NULL OR revoked_on {day} > {k})
    ), counted AS (
      SELECT * FROM known
      QUALIFY document_no IS NULL OR trim(document_no) = ''
           OR row_number() OVER (PARTITION BY subject_id, subject_type, behaviour_code,
                                 decided, document_no
                                 ORDER BY recorded, source, record_id) = 1
    ), escalation AS (
      SELECT c.subject_id, c.subject_type, c.decided, c.repaired, c.until, b.*,
             max(c.decided) OVER (PARTITION BY c.subject_id, c.subject_type,
                                  c.behaviour_code ORDER BY c.decided
                                  RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
               AS previous
      FROM counted c JOIN behaviours b USING (behaviour_code)
    ), repaired AS (
      SELECT *,
             CASE WHEN repaired IS NOT NULL THEN greatest(repaired, decided + min_publish)
             END AS repaired_from
      FROM escalation
    )
    SELECT subject_id, subject_type, behaviour_code, decided, days, linear, repaired_from,
           points * CASE WHEN repeat_days IS NOT NULL
                              AND decided - previous BETWEEN 1 AND repeat_days
                         THEN repeat_factor ELSE 1.0 END AS amount,
           decided + days AS nominal_end,
           CASE WHEN repaired_from IS NULL THEN decided + days
                ELSE least(decided + days, repaired_from) END AS "end",
           CASE WHEN restrict_days IS NULL AND until IS NULL THEN NULL
                ELSE least(coalesce(until + 1, decided + restrict_days),
                           coalesce(repaired_from, 2147483647)) END AS restrict_end
    FROM repaired
    """


def timeline_sql(rules: RuleSet, known_on: int) -> str:
    """Every change point: events +amount at decided / -amount at end, summed per day,
    run as windowed sums per subject."""
    deducted = "(step + lin0)"
    index = _round_sql(f"greatest({rules.floor!r}, {rules.base!r} - {deducted})")
    return f"""
    WITH ledger AS ({ledger_sql(known_on)}),
    live AS (SELECT * FROM ledger WHERE "end" > decided),
    events AS (
      SELECT subject_id, subject_type, decided AS day,
             CASE WHEN linear THEN 0.0 ELSE amount END AS d_step,
             CASE WHEN linear THEN amount * nominal_end / days ELSE 0.0 END AS d_level,
             CASE WHEN linear THEN amount / days ELSE 0.0 END AS d_slope
      FROM live
      UNION ALL
      SELECT subject_id, subject_type, "end",
             CASE WHEN linear THEN 0.0 ELSE -amount END,
             CASE WHEN linear THEN -amount * nominal_end / days ELSE 0.0 END,
             CASE WHEN linear THEN -amount / days ELSE 0.0 END
      FROM live
    ), per_day AS (
      SELECT subject_id, subject_type, day, sum(d_step) AS d_step, sum(d_level) AS d_level,
             sum(d_slope) AS d_slope
      FROM events GROUP BY ALL
    ), running AS (
      SELECT subject_id, subject_type, day AS start,
             lead(day) OVER (PARTITION BY subject_id, subject_type ORDER BY day) AS stop,
             sum(d_step) OVER w AS step, sum(d_level) OVER w AS level,
             sum(d_slope) OVER w AS slope
      FROM per_day
      WINDOW w AS (PARTITION BY subject_id, subject_type ORDER BY day
                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    ), snapped AS (
      SELECT subject_id, subject_type, start, stop,
             CASE WHEN abs(step) < 1e-9 THEN 0.0 ELSE step END AS step,
             CASE WHEN abs(slope) < 1e-9 THEN 0.0 ELSE slope END AS slope, level
      FROM running
    ), segments AS (
      SELECT subject_id, subject_type, start, stop, step,
             CASE WHEN slope = 0 THEN 0.0 ELSE level - slope * start END AS lin0, slope
      FROM snapped
    )
    SELECT *, {index} AS index_at_start,
           {_grade_case(rules, index)} AS grade_at_start
    FROM segments
    """


def snapshot_sql(rules: RuleSet, day: int) -> str:
    """One day's evaluation of every subject found in the records."""
    d = int(day)
    index = _round_sql(f"greatest({rules.floor!r}, {rules.base!r} - deducted)")
    susp = rules.expert_suspension
    suspended = "SELECT NULL AS subject_id WHERE false"
    if susp is not None:
        suspended = f"""
        SELECT DISTINCT subject_id FROM (
          SELECT subject_id, decided, m,
                 sum(s) OVER (PARTITION BY subject_id ORDER BY decided
                              RANGE BETWEEN {susp.window_days - 1} PRECEDING AND CURRENT ROW)
                   AS w
          FROM (SELECT subject_id, decided, sum(amount) AS s, max(amount) AS m
                FROM ledger WHERE subject_type = 'expert' GROUP BY ALL)
        )
        WHERE (m >= {float(susp.single_points)!r} - 1e-9
               OR w >= {float(susp.total_points)!r} - 1e-9)
          AND decided <= {d} AND decided + {susp.suspend_days} > {d}
        """
    return f"""
    WITH ledger AS ({ledger_sql(d)}),
    active AS (
      SELECT subject_id, subject_type,
             sum(amount * CASE WHEN linear THEN (nominal_end - {d})::DOUBLE / days
                               ELSE 1.0 END) AS deducted
      FROM ledger WHERE decided <= {d} AND "end" > {d} GROUP BY ALL
    ), subjects AS (SELECT DISTINCT subject_id, subject_type FROM records),
    scored AS (
      SELECT s.subject_id, s.subject_type, coalesce(a.deducted, 0.0) AS deducted
      FROM subjects s LEFT JOIN active a USING (subject_id, subject_type)
    ), graded AS (
      SELECT *, {index} AS "index" FROM scored
    ), ranked AS (
      SELECT subject_id, subject_type, {_round_sql("deducted")} AS deducted, "index",
             {_grade_case(rules, '"index"')} AS grade,
             rank() OVER (PARTITION BY subject_type ORDER BY "index" DESC) AS "rank"
      FROM graded
    ), restricted_ids AS (
      SELECT subject_id FROM ranked WHERE grade IN ({_restricted_grades(rules)})
      UNION
      SELECT subject_id FROM ledger
      WHERE restrict_end IS NOT NULL AND decided <= {d} AND restrict_end > {d}
      UNION
      {suspended}
    )
    SELECT r.*, r.subject_id IN (SELECT subject_id FROM restricted_ids) AS restricted
    FROM ranked r
    """


def duck_timeline(con: duckdb.DuckDBPyConnection, rules: RuleSet, known_on: int) -> None:
    """The timeline in SQL, kept as a DuckDB table ``timeline``."""
    con.execute(f"CREATE OR REPLACE TABLE timeline AS {timeline_sql(rules, known_on)}")


def duck_snapshot(con: duckdb.DuckDBPyConnection, rules: RuleSet, day: int) -> None:
    """The snapshot in SQL, kept as a DuckDB table ``snapshot``."""
    con.execute(f"CREATE OR REPLACE TABLE snapshot AS {snapshot_sql(rules, day)}")


def duck_fetch(con: duckdb.DuckDBPyConnection, table: str) -> pl.DataFrame:
    """A DuckDB table as a polars frame."""
    return con.sql(f"SELECT * FROM {table}").pl()


def duck_eligibility(con: duckdb.DuckDBPyConnection, day: int) -> pl.DataFrame:
    """Eligibility of the ids in table ``asked`` over the intervals in ``intervals``."""
    return con.sql(f"""
        SELECT q.subject_id,
               NOT EXISTS (SELECT 1 FROM intervals i
                           WHERE i.subject_id = q.subject_id AND i.start <= {int(day)}
                             AND (i."end" IS NULL OR i."end" > {int(day)})) AS eligible
        FROM asked q
    """).pl()


# ---------------------------------------------------------------------------------------
# pandas
# ---------------------------------------------------------------------------------------

_EPOCH = np.datetime64("1970-01-01", "D")


def _days(series: pd.Series) -> pd.Series:
    """Dates as float days since 1970 (NaN where missing)."""
    values = series.to_numpy(dtype="datetime64[D]")
    out = (values - _EPOCH).astype("timedelta64[D]").astype(np.float64)
    out[np.isnat(values)] = np.nan
    return pd.Series(out, index=series.index)


def pandas_ledger(records: pd.DataFrame, rules: RuleSet, known_on: int) -> pd.DataFrame:
    """The ledger as known on ``known_on``, in pandas."""
    k = float(known_on)
    df = records
    recorded, revoked = _days(df["recorded_on"]), _days(df["revoked_on"])
    known = df[(recorded <= k) & (revoked.isna() | (revoked > k))].copy()
    known["decided"] = _days(known["decided_on"])
    known["recorded"] = _days(known["recorded_on"])
    repaired = _days(known["repaired_on"])
    known["repaired"] = repaired.where(repaired <= k)
    known = known.merge(behaviours(rules).to_pandas(), on="behaviour_code", how="inner")
    doc = known["document_no"]
    has_doc = doc.notna() & (doc.str.strip() != "")
    known = known.sort_values(["recorded", "source", "record_id"], kind="stable")
    act = ["subject_id", "subject_type", "behaviour_code", "decided", "document_no"]
    first = ~known.duplicated(act, keep="first")
    known = known[~has_doc.loc[known.index] | first]
    group = ["subject_id", "subject_type", "behaviour_code"]
    days = known[[*group, "decided"]].drop_duplicates().sort_values([*group, "decided"])
    days["previous"] = days.groupby(group, sort=False)["decided"].shift(1)
    known = known.merge(days, on=[*group, "decided"], how="left")
    gap = known["decided"] - known["previous"]
    escalated = known["repeat_days"].notna() & (gap >= 1) & (gap <= known["repeat_days"])
    known["amount"] = known["points"] * np.where(escalated, known["repeat_factor"], 1.0)
    known["nominal_end"] = known["decided"] + known["days"]
    repaired_from = np.fmax(known["repaired"], known["decided"] + known["min_publish"])
    repaired_from = repaired_from.where(known["repaired"].notna())
    known["end"] = np.fmin(known["nominal_end"], repaired_from)
    until = _days(known["restrict_until"]) + 1  # the decision's stated bar wins
    bar_end = until.where(until.notna(), known["decided"] + known["restrict_days"])
    restrict_end = np.fmin(bar_end, repaired_from)
    known["restrict_end"] = restrict_end.where(known["restrict_days"].notna() | until.notna())
    return known[["subject_id", "subject_type", "decided", "days", "linear", "amount",
                  "nominal_end", "end", "restrict_end"]]


def _round(x: pd.Series | np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    values = np.asarray(x, dtype=np.float64)
    return np.sign(values) * np.floor(np.abs(values) * 100 + 0.5 + 1e-9) / 100 + 0.0


def _grades(rules: RuleSet, index: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    names = np.array([g.name for g in rules.grade], dtype=object)
    mins = np.array([float(g.min) for g in rules.grade])
    pos = np.minimum(np.searchsorted(-mins, -index, side="left"), len(names) - 1)
    return names[pos]


def pandas_timeline(records: pd.DataFrame, rules: RuleSet, known_on: int) -> pd.DataFrame:
    """Every change point, in pandas."""
    led = pandas_ledger(records, rules, known_on)
    live = led[led["end"] > led["decided"]]
    lin = live["linear"].to_numpy()
    amount = live["amount"].to_numpy()
    step = np.where(lin, 0.0, amount)
    level = np.where(lin, amount * live["nominal_end"].to_numpy() / live["days"].to_numpy(),
                     0.0)
    slope = np.where(lin, amount / live["days"].to_numpy(), 0.0)
    keys = live[["subject_id", "subject_type"]]
    starts = keys.assign(day=live["decided"].to_numpy(), d_step=step, d_level=level,
                         d_slope=slope)
    stops = keys.assign(day=live["end"].to_numpy(), d_step=-step, d_level=-level,
                        d_slope=-slope)
    events = pd.concat([starts, stops], ignore_index=True)
    per_day = events.groupby(["subject_id", "subject_type", "day"], sort=True,
                             as_index=False)[["d_step", "d_level", "d_slope"]].sum()
    by_subject = per_day.groupby(["subject_id", "subject_type"], sort=False)
    per_day["step"] = by_subject["d_step"].cumsum()
    per_day["level"] = by_subject["d_level"].cumsum()
    per_day["slope"] = by_subject["d_slope"].cumsum()
    per_day["stop"] = by_subject["day"].shift(-1)
    per_day.loc[per_day["step"].abs() < 1e-9, "step"] = 0.0
    per_day.loc[per_day["slope"].abs() < 1e-9, "slope"] = 0.0
    per_day["lin0"] = np.where(per_day["slope"] == 0, 0.0,
                               per_day["level"] - per_day["slope"] * per_day["day"])
    deducted = (per_day["step"] + per_day["lin0"]).to_numpy()
    index = _round(np.maximum(rules.floor, rules.base - deducted))
    out = per_day.rename(columns={"day": "start"})[
        ["subject_id", "subject_type", "start", "stop", "step", "lin0", "slope"]]
    return out.assign(index_at_start=index, grade_at_start=_grades(rules, index))


def pandas_snapshot(records: pd.DataFrame, rules: RuleSet, day: int) -> pd.DataFrame:
    """One day's evaluation of every subject found in the records, in pandas."""
    d = float(day)
    led = pandas_ledger(records, rules, day)
    on = led[(led["decided"] <= d) & (led["end"] > d)]
    weight = np.where(on["linear"], (on["nominal_end"] - d) / on["days"], 1.0)
    sums = on.assign(deducted=on["amount"] * weight).groupby(
        ["subject_id", "subject_type"], as_index=False)["deducted"].sum()
    subjects = records[["subject_id", "subject_type"]].drop_duplicates()
    scored = subjects.merge(sums, on=["subject_id", "subject_type"], how="left")
    scored["deducted"] = scored["deducted"].fillna(0.0)
    index = _round(np.maximum(rules.floor, rules.base - scored["deducted"].to_numpy()))
    scored["index"] = index
    scored["grade"] = _grades(rules, index)
    scored["rank"] = scored.groupby("subject_type")["index"].rank(
        method="min", ascending=False).astype(np.int64)
    scored["deducted"] = _round(scored["deducted"])
    restricted_grades = [g.name for g in rules.grade if g.restricted]
    ids = [scored.loc[scored["grade"].isin(restricted_grades), "subject_id"],
           led.loc[led["restrict_end"].notna() & (led["decided"] <= d)
                   & (led["restrict_end"] > d), "subject_id"]]
    susp = rules.expert_suspension
    if susp is not None:
        experts = led[led["subject_type"] == "expert"]
        per_day = experts.groupby(["subject_id", "decided"], as_index=False).agg(
            s=("amount", "sum"), m=("amount", "max")).sort_values(["subject_id", "decided"])
        per_day["when"] = pd.to_datetime(per_day["decided"], unit="D")
        window = per_day.groupby("subject_id").rolling(
            f"{susp.window_days}D", on="when")["s"].sum()
        per_day["w"] = window.to_numpy()
        hit = (per_day["m"] >= susp.single_points - 1e-9) | (
            per_day["w"] >= susp.total_points - 1e-9)
        on_day = (per_day["decided"] <= d) & (per_day["decided"] + susp.suspend_days > d)
        ids.append(per_day.loc[hit & on_day, "subject_id"])
    restricted = pd.concat(ids).unique()
    scored["restricted"] = scored["subject_id"].isin(restricted)
    return scored[["subject_id", "subject_type", "deducted", "index", "grade", "rank",
                   "restricted"]]


def pandas_eligibility(intervals: pd.DataFrame, asked: pd.Series, day: int) -> pd.DataFrame:
    """Eligibility of ``asked`` ids over restriction intervals, in pandas."""
    d = float(day)
    hits = intervals[(intervals["start"] <= d)
                     & (intervals["end"].isna() | (intervals["end"] > d))]
    blocked = asked.isin(hits["subject_id"])
    return pd.DataFrame({"subject_id": asked.to_numpy(), "eligible": ~blocked.to_numpy()})
