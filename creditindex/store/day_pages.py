"""One page of a stored day's ranking, read without reading the day (the app's first
page on a store of a million subjects).

A stored day is the last run stored whole (``W``) overlaid by the runs stored as changes
since, with the answers that decay derived when read (:mod:`creditindex.store.snapshots`).
The subjects those touch (``O``: rows of later runs, answers that decay) are few: they
are read by key, index and restriction, the index of those that decay derived for the
day from their ledger rows, and only those on the page are read whole; the rest of the
page comes from ``W`` through the index on (run, subject type, index), a LIMITed query.
A rank is one plus the number of subjects of the type with a higher index that day:
counted in ``W`` by the same index, corrected for ``O``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, select

from creditindex import engine
from creditindex.rules import RuleSet
from creditindex.store.daily_state import KEY, SPELL_KEPT, decay_ledger_rows
from creditindex.store.db import get_engine, placeholder, read_transaction, table
from creditindex.store.load import query_frame
from creditindex.store.migrations import ensure_schema
from creditindex.store.rulesets import version_by_id
from creditindex.store.snapshots import (
    SNAPSHOT_COLUMNS,
    SNAPSHOT_SCHEMA,
    decayed_on,
    run_chain,
)


@dataclass(frozen=True)
class DayPage:
    """The first rows of a stored day's ranking of one subject type (the columns of
    ``compute``, exact ranks), and the day's totals of that type."""

    rows: pl.DataFrame
    subjects: int
    restricted: int
    mean_index: float | None


def _rows(conn: Connection, where: str, params: tuple[object, ...],
          source: str = "snapshot_row s") -> pl.DataFrame:
    return query_frame(conn, f"SELECT {', '.join(f's.{c}' for c in ['run_id', *SNAPSHOT_COLUMNS])}"
                             f" FROM {source} WHERE {where}",
                       {"run_id": pl.Int64(), **SNAPSHOT_SCHEMA}, params)


def _counts_above(conn: Connection, whole: int, subject_type: str, floor: float
                  ) -> pl.DataFrame:
    """Subjects of the type per index value above ``floor`` in run ``whole`` (a rank
    counts only higher indices: at the full mark nothing is read)."""
    p = placeholder(conn)
    return query_frame(conn, "SELECT credit_index, COUNT(*) FROM snapshot_row WHERE "
                             f"run_id = {p} AND subject_type = {p} AND credit_index > {p} "
                             "GROUP BY credit_index",
                       {"index": pl.Float64(), "n": pl.Int64()},
                       (whole, subject_type, floor))


# What the counts and the order need of a row (the rest is read for the page's rows only).
LIGHT = ["run_id", *KEY, "index", "restricted"]


def _light(conn: Connection, where: str, params: tuple[object, ...],
           source: str = "snapshot_row s") -> pl.DataFrame:
    """What the counts and the order need of rows: key, index, restriction."""
    return query_frame(conn, "SELECT s.run_id, s.subject_id, s.subject_type, "
                             f"s.credit_index, s.restricted FROM {source} WHERE {where}",
                       {"run_id": pl.Int64(), **{c: SNAPSHOT_SCHEMA[c] for c in LIGHT[1:]}},
                       params)


def _indices_on(rows: pl.DataFrame, decay: pl.DataFrame, rules: RuleSet | None,
                day: dt.date) -> pl.DataFrame:
    """``rows`` (:data:`LIGHT`) with the index of every answer stored where its decay
    starts replaced by its index on ``day`` (from the ledger rows kept with its run, by
    the engine's scoring, as :func:`creditindex.store.snapshots.decayed_on` does)."""
    on = ["run_id", *KEY]
    ledger = decay.join(rows.select(on), on=on, how="semi")
    if not ledger.height or rules is None:
        return rows
    now = engine.scores_on(ledger.drop("run_id"), rules, day).select(
        *KEY, pl.col("index").alias("_now"))
    return rows.join(now, on=KEY, how="left").with_columns(
        pl.coalesce("_now", "index").alias("index")).select(rows.columns)


def stored_page(url: str | None, day: dt.date, rules_hash: str, subject_type: str,
                size: int) -> DayPage | None:
    """The first ``size`` rows (highest index first) of the stored day ``day`` by the rule
    set ``rules_hash`` for ``subject_type``, or ``None`` when that day is not stored."""
    db = get_engine(url)
    ensure_schema(db)
    runs = table("evaluation_run")
    with read_transaction(db) as conn:
        found = conn.execute(select(runs.c.id, runs.c.rule_set_id).where(
            runs.c.day == day, runs.c.rules_hash == rules_hash).order_by(
            runs.c.id.desc()).limit(1)).first()
        if found is None:
            return None
        chain = run_chain(conn, int(found[0]))
        whole, later = chain[-1], chain[:-1]
        p = placeholder(conn)
        in_later = f"run_id IN ({', '.join([p] * len(later))})" if later else "1 = 0"
        of_later = f"s.{in_later}" if later else in_later
        # O: rows of later runs, and W's rows whose answer decays (found from their
        # ledger rows, by W's key): key, index and restriction (thousands of rows)
        touched = pl.concat([
            _light(conn, f"s.subject_type = {p} AND {of_later}", (subject_type, *later)),
            _light(conn, f"s.run_id = {p}", (subject_type, whole, subject_type, whole, whole),
                   source="(SELECT DISTINCT subject_id, subject_type, run_id FROM "
                          f"decay_ledger WHERE subject_type = {p} AND run_id = {p} UNION "
                          "SELECT ds.subject_id, ds.subject_type, ds.run_id FROM "
                          f"{SPELL_KEPT} WHERE ds.subject_type = {p} AND ds.run_id = {p}) d "
                          "JOIN snapshot_row s ON s.run_id = d.run_id AND "
                          "s.subject_id = d.subject_id AND s.subject_type = d.subject_type")])
        # W's rows of subjects a later run changed (to take them out of W's counts)
        replaced = _light(conn, f"s.run_id = {p} AND s.subject_type = {p} AND s.subject_id "
                                "IN (SELECT subject_id FROM snapshot_row WHERE subject_type "
                                f"= {p} AND {in_later})",
                          (whole, subject_type, subject_type, *later)
                          ) if later else touched.clear()
        totals = query_frame(conn, "SELECT COUNT(*), SUM(CASE WHEN restricted THEN 1 "
                                   "ELSE 0 END), SUM(credit_index) FROM snapshot_row "
                                   f"WHERE run_id = {p} AND subject_type = {p}",
                             {"n": pl.Int64(), "restricted": pl.Int64(),
                              "sum": pl.Float64()}, (whole, subject_type)).row(0)
        decay = decay_ledger_rows(conn, chain, subject_type)
        rules = version_by_id(conn, int(found[1])).rules if decay.height else None
        newest = touched.sort("run_id", descending=True).unique(KEY, keep="first")
        # the touched subjects' answers on the day: index and restriction
        day_rows = _indices_on(newest, decay, rules, day)
        # W's own rows of the touched subjects, as counted in W
        in_whole = pl.concat([touched.filter(pl.col("run_id") == whole), replaced]).unique(
            KEY)
        top = _top_of_whole(conn, whole, subject_type, size, day_rows.select(KEY))
        order = pl.concat([top.select(LIGHT), day_rows]).sort(
            ["index", "subject_id"], descending=[True, False]).head(size)
        above = _counts_above(conn, whole, subject_type, float(
            order.get_column("index").min()) if order.height else 0.0)  # type: ignore[arg-type]
        # the touched subjects on the page, read whole by key (their newest rows)
        on_page = newest.join(order.select(KEY), on=KEY, how="semi").select(
            "run_id", *KEY)
        ids = on_page.get_column("subject_id").to_list()
        shown = _rows(conn, f"s.subject_type = {p} AND s.run_id IN "
                            f"({', '.join([p] * len(chain))}) AND s.subject_id IN "
                            f"({', '.join([p] * len(ids))})", (subject_type, *chain, *ids)
                      ).join(on_page, on=["run_id", *KEY], how="semi") if ids else top.clear()
        if rules is not None and shown.height:
            shown = decayed_on(shown, decay, rules, day)
    candidates = pl.concat([top.select(shown.columns), shown]).sort(
        ["index", "subject_id"], descending=[True, False]).head(size)
    ranks = _ranks(candidates.get_column("index"), above, in_whole, day_rows)
    rows = candidates.drop("run_id").with_columns(
        pl.Series("rank", ranks, dtype=pl.Int64),
        pl.col("watch", "restricted_in").fill_null(""))
    n = int(totals[0] or 0) - in_whole.height + day_rows.height
    restricted = (int(totals[1] or 0) - int(in_whole.get_column("restricted").sum())
                  + int(day_rows.get_column("restricted").sum()))
    total = (float(totals[2] or 0.0) - float(in_whole.get_column("index").sum())
             + float(day_rows.get_column("index").sum()))
    return DayPage(rows=rows, subjects=n, restricted=restricted,
                   mean_index=total / n if n else None)


def _top_of_whole(conn: Connection, whole: int, subject_type: str, size: int,
                  touched: pl.DataFrame) -> pl.DataFrame:
    """The first ``size`` rows of run ``whole`` of the type (highest index first, then by
    subject_id) that are not among the ``touched`` subjects: one index value at a time,
    each through the index (most subjects share the full mark)."""
    p = placeholder(conn)
    where = f"run_id = {p} AND subject_type = {p}"
    found = _rows(conn, "1 = 0", ())
    below: float | None = None
    while found.height < size:
        cap = "" if below is None else f" AND credit_index < {p}"
        params = (whole, subject_type, *(() if below is None else (below,)))
        value = conn.exec_driver_sql(f"SELECT MAX(credit_index) FROM snapshot_row WHERE "
                                     f"{where}{cap}", params).scalar()
        if value is None:
            break
        offset, batch = 0, max(size * 2, 100)
        while found.height < size:
            rows = _rows(conn, f"s.{where} AND s.credit_index = {p} ORDER BY s.subject_id "
                               f"LIMIT {batch} OFFSET {offset}",
                         (whole, subject_type, value))
            found = pl.concat([found, rows.join(touched, on=KEY, how="anti")])
            if rows.height < batch:
                break
            offset += batch
            batch *= 4
        below = float(value)
    return found.head(size)


def _ranks(indices: pl.Series, above: pl.DataFrame, in_whole: pl.DataFrame,
           day_rows: pl.DataFrame) -> list[int]:
    """Competition ranks of ``indices``: one plus the subjects with a higher index that
    day (W's counts, less W's rows of touched subjects, plus their rows of the day)."""
    values = above.get_column("index").to_numpy()
    counts = above.get_column("n").to_numpy()
    gone = in_whole.get_column("index").to_numpy()
    now = day_rows.get_column("index").to_numpy()
    return [1 + int(counts[values > x].sum()) - int((gone > x).sum()) + int((now > x).sum())
            for x in indices.to_list()]
