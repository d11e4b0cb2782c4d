"""The daily job is incremental (docs/glossary.md, "the daily job"): after one whole
evaluation it recomputes only the subjects due and those with new facts, stores days
as their changes, and its answers equal a whole ``compute`` of every day, as known that
day, on generated data with revocations, repairs, late records, lists and manual
restrictions, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from alembic import command
from polars.testing import assert_frame_equal
from sqlalchemy import inspect, text

from creditindex.evaluate import compute
from creditindex.generate import generate
from creditindex.identifiers import uscc_check_char
from creditindex.rules import load_rules
from creditindex.store import day_plan, snapshots
from creditindex.store.daily_state import KEY, SPELL_KEPT, STATE_SCHEMA, state_rows
from creditindex.store.day_pages import stored_page
from creditindex.store.db import dispose_engine, get_engine
from creditindex.store.importer import import_lists, import_records
from creditindex.store.lifecycle import (
    add_restriction,
    decide_objection,
    file_objection,
    grant_repair,
)
from creditindex.store.load import load_data, query_frame
from creditindex.store.migrations import alembic_config, upgrade
from creditindex.store.rulesets import publish_rules
from creditindex.store.snapshots import evaluate, stored_snapshot
from creditindex.store.spell_walk import Walk
from creditindex.store.users import add_user
from tests.databases import empty_database
from tests.store.storetest import PASSWORD

D = dt.date.fromisoformat
ROOT = Path(__file__).resolve().parents[2]
GENERATED_UNTIL = D("2026-03-20")


def _generated(folder: Path) -> tuple[Path, Path, pl.DataFrame]:
    """Records (the generator's, decided by 2026-03-20: repeats, linear decay, bars,
    suspensions, revocations and repairs) and a later batch recorded 2026-04-03."""
    folder.mkdir(parents=True, exist_ok=True)
    _, records = generate(400, 2500, load_rules(), seed=7)
    records = records.filter(pl.col("recorded_on") <= GENERATED_UNTIL).with_columns(
        pl.when(pl.col(c) <= GENERATED_UNTIL).then(pl.col(c)).alias(c)
        for c in ("revoked_on", "repaired_on"))
    # a firm in two roles, one index decaying daily and the other not
    firm = {**records.filter(pl.col("subject_type") == "bidder").row(0, named=True),
            **{c: None for c in ("restrict_until", "restrict_scope", "publish_until",
                                 "authority", "basis") if c in records.columns}}
    two_roles = pl.DataFrame([
        {**firm, "record_id": "two-roles-1", "behaviour_code": "BID-KEY-STAFF-CHANGE",
         "decided_on": D("2026-02-25"), "recorded_on": D("2026-02-25"), "revoked_on": None,
         "repaired_on": None},
        {**firm, "record_id": "two-roles-2", "subject_type": "agent",
         "behaviour_code": "AGT-BEYOND-SCOPE", "decided_on": D("2025-06-01"),
         "recorded_on": D("2025-06-01"), "revoked_on": None, "repaired_on": None}],
        schema=records.schema)
    records = pl.concat([two_roles, records])
    first, late = records.head(records.height - 40), records.tail(40)
    late = late.with_columns(pl.lit(D("2026-04-03")).alias("recorded_on"),
                             pl.lit(None, pl.Date).alias("revoked_on"),
                             pl.lit(None, pl.Date).alias("repaired_on"),
                             pl.format("late-{}", pl.col("record_id")).alias("record_id"))
    paths = folder / "records.csv", folder / "late.csv"
    for frame, path in zip((first, late), paths, strict=True):
        frame.write_csv(path, date_format="%Y-%m-%d")
    return paths[0], paths[1], records


def _lists(folder: Path, records: pl.DataFrame) -> Path:
    """Two entries by id and one by name, active part of the time."""
    ids = records.get_column("subject_id").unique(maintain_order=True).to_list()
    names = records.filter(pl.col("subject_id") == ids[5]).get_column("subject_name")
    path = folder / "lists.csv"
    pl.DataFrame({"list": ["court", "court", "tax"], "entry_id": ["C1", "C2", "T1"],
                  "subject_id": [ids[1], ids[2], None], "name": [None, None, names[0]],
                  "country": [None, None, None],
                  "listed_on": ["2026-03-10", "2026-01-01", "2026-03-25"],
                  "until": ["2026-03-28", "Ongoing", "2026-04-02"],
                  "grounds": ["失信被执行人", "失信被执行人", "重大税收违法"]}).write_csv(path)
    return path


def _assert_stored_equals_compute(url: str, days: list[dt.date]) -> None:
    data = load_data(url)
    for day in days:
        assert_frame_equal(stored_snapshot(url, day), compute(data, day, day),
                           check_dtypes=True)


def _runs_stored_as_changes(url: str) -> int:
    with get_engine(url).connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM evaluation_run "
                                     "WHERE parent_run_id IS NOT NULL")).scalar_one())


def test_incremental_days_equal_whole_evaluations(store_url: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshots, "MAX_CHAIN", 7)  # a whole run now and then, too
    first, late, records = _generated(tmp_path)
    import_records(store_url, [first], user="alice", today=D("2026-03-21"))
    import_lists(store_url, [_lists(tmp_path, records)], user="alice")
    start = D("2026-03-01")
    assert [r.status for r in evaluate(store_url, start)] == ["stored"]  # whole
    assert [r.status for r in evaluate(store_url, D("2026-03-02"))] == ["stored"]
    caught = evaluate(store_url, D("2026-04-02"))  # 31 missed days in one run
    assert [r.day for r in caught] == [D("2026-03-03") + dt.timedelta(days=i)
                                      for i in range(31)]
    assert _runs_stored_as_changes(store_url) >= 25
    with get_engine(store_url).connect() as conn:  # decaying answers move when read
        assert conn.execute(text("SELECT COUNT(*) FROM decay_ledger")).scalar_one() > 0
    _assert_stored_equals_compute(store_url, [start + dt.timedelta(days=i)
                                              for i in range(33)])
    # new facts: late records, a repair, a manual restriction
    import_records(store_url, [late], user="alice", today=D("2026-04-03"))
    repairable = records.filter(pl.col("revoked_on").is_null()
                                & pl.col("repaired_on").is_null()
                                & (pl.col("decided_on") < D("2025-01-01"))).row(0, named=True)
    grant_repair(store_url, repairable["source"], repairable["record_id"], user="alice",
                 on=D("2026-04-05"))
    add_restriction(store_url, records.get_column("subject_id")[3], user="alice",
                    start=D("2026-04-04"), until=D("2026-04-20"), reason="manual")
    evaluate(store_url, D("2026-04-03"))
    evaluate(store_url, D("2026-04-25"))
    with get_engine(store_url).connect() as conn:  # the state holds every subject
        held = conn.execute(text("SELECT COUNT(*) FROM subject_state")).scalar_one()
    assert held == compute(load_data(store_url), D("2026-04-25")).height
    # earlier days stay as published then (the late records were not known on them)
    _assert_stored_equals_compute(store_url, [D("2026-04-03") + dt.timedelta(days=i)
                                              for i in range(23)])


def test_a_list_import_and_a_past_day_are_evaluated_whole(store_url: str,
                                                          tmp_path: Path) -> None:
    first, _, records = _generated(tmp_path)
    import_records(store_url, [first], user="alice", today=D("2026-03-21"))
    evaluate(store_url, D("2026-03-10"))
    evaluate(store_url, D("2026-03-12"))
    _assert_stored_equals_compute(store_url, [D("2026-03-10"), D("2026-03-11"),
                                              D("2026-03-12")])
    import_lists(store_url, [_lists(tmp_path, records)], user="alice")  # may match anyone
    evaluate(store_url, D("2026-03-30"))
    evaluate(store_url, D("2026-03-05"))  # before the state's day: whole, state kept
    evaluate(store_url, D("2026-03-31"))
    with get_engine(store_url).connect() as conn:
        whole = conn.execute(text("SELECT day FROM evaluation_run WHERE parent_run_id IS NULL "
                                  "ORDER BY day")).scalars().all()
    assert [str(d)[:10] for d in whole] == ["2026-03-05", "2026-03-10", "2026-03-13"]
    _assert_stored_equals_compute(store_url, [D("2026-03-05"), D("2026-03-13"),
                                              D("2026-03-20"), D("2026-03-30"),
                                              D("2026-03-31")])


def test_decaying_answers_are_stored_where_their_decay_starts(
        store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, _, _ = _generated(tmp_path)
    import_records(store_url, [first], user="alice", today=D("2026-03-21"))
    days = [D("2026-03-21") + dt.timedelta(days=i) for i in range(11)]
    evaluate(store_url, days[0])
    going_on = _decays_going_on(monkeypatch)
    evaluate(store_url, days[-1])  # ten days caught up: nothing but decays and expiries
    # at a change point that changed nothing, a decay goes on
    assert sum(keys.height for keys in going_on) > 0
    data = load_data(store_url)
    answers = [compute(data, day, day).drop("rank") for day in days]
    moved = sum(later.join(earlier, on=list(later.columns), how="anti",
                           nulls_equal=True).height
                for earlier, later in itertools.pairwise(answers))
    with get_engine(store_url).connect() as conn:
        stored = conn.execute(text(
            "SELECT COUNT(*) FROM snapshot_row s JOIN evaluation_run r ON r.id = s.run_id "
            "WHERE r.parent_run_id IS NOT NULL")).scalar_one()
    assert moved > 0 and stored < moved / 4  # decays move every day, yet are not stored
    _assert_stored_equals_compute(store_url, days)


def _decays_going_on(monkeypatch: pytest.MonkeyPatch) -> list[pl.DataFrame]:
    """A list that gets, as the store plans its days, the subjects whose stored
    decaying answer goes on at a change point (``KEY``, and ``decay_run_id``: the run
    their row names), from the day-by-day plan and from the walk
    (:mod:`creditindex.store.spell_walk`)."""
    found: list[pl.DataFrame] = []
    day_by_day, walk = day_plan._decays_going_on, day_plan.walk

    def counted(carry: Any, *args: Any) -> pl.DataFrame:
        keys = day_by_day(carry, *args)
        found.append(carry.rows.join(keys, on=KEY, how="semi").select(*KEY, "decay_run_id"))
        return keys

    def walked(*args: Any) -> Walk:
        planned = walk(*args)
        found.extend(day.fresh.join(day.spelled, on=KEY, how="anti").select(
            *KEY, "decay_run_id") for day in planned.days.values())
        return planned

    monkeypatch.setattr(day_plan, "_decays_going_on", counted)
    monkeypatch.setattr(day_plan, "walk", walked)
    return found


def _no_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plan every day of the store's catch-ups day by day (no subject walked)."""
    def nothing(rows: pl.DataFrame, spells: pl.DataFrame, days: list[dt.date],
                exclude: Any) -> Walk:
        return Walk(set(), {}, days[-1], rows.clear())

    monkeypatch.setattr(day_plan, "walk", nothing)


# Every run's decay ledger rows: those kept in decay_ledger and those it names in the
# spell ledger (decay_spell).
_KEPT = ("(SELECT run_id, subject_id, subject_type, source, record_id, decided, end_day, "
         "nominal_end, days, amount FROM decay_ledger UNION ALL SELECT ds.run_id, "
         "d.subject_id, d.subject_type, d.source, d.record_id, d.decided, d.end_day, "
         f"d.nominal_end, d.days, d.amount FROM {SPELL_KEPT})")


def _stored_rows(url: str) -> tuple[int, int]:
    """How many snapshot rows the runs stored as changes hold, and how many decay ledger
    rows every run keeps."""
    with get_engine(url).connect() as conn:
        rows = conn.execute(text(
            "SELECT COUNT(*) FROM snapshot_row s JOIN evaluation_run r ON r.id = s.run_id "
            "WHERE r.parent_run_id IS NOT NULL")).scalar_one()
        ledger = conn.execute(text(f"SELECT COUNT(*) FROM {_KEPT} k")).scalar_one()
    return int(rows), int(ledger)


def _stored_by_day(url: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows every day's run stored as changes (day, subject, answer) and the decay
    ledger rows every day's run keeps (day, subject, record, days, amount), sorted."""
    with get_engine(url).connect() as conn:
        rows = conn.execute(text(
            "SELECT r.day, s.subject_id, s.subject_type, s.credit_index, s.grade, "
            "s.deducted, s.restricted, s.restricted_in, s.reasons FROM snapshot_row s "
            "JOIN evaluation_run r ON r.id = s.run_id WHERE r.parent_run_id IS NOT NULL"))
        answers = sorted(tuple(str(v) for v in row) for row in rows)
        rows = conn.execute(text(
            "SELECT r.day, d.subject_id, d.subject_type, d.source, d.record_id, d.decided, "
            f"d.end_day, d.nominal_end, d.days, d.amount FROM {_KEPT} d "
            "JOIN evaluation_run r ON r.id = d.run_id"))
        ledger = sorted(tuple(str(v) for v in row) for row in rows)
    return answers, ledger


def test_a_catch_up_stores_what_single_days_store(
        store_url: str, backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Twenty missed days caught up in one run store the same answers, as the same rows,
    as twenty runs of a day each planned day by day (no subject walked: the walk is
    checked against the day-by-day plan): a decay that starts inside the catch-up goes
    on across its later change points (expiries) instead of being stored again with its
    ledger rows, as it does from one daily run to the next."""
    monkeypatch.setattr(snapshots, "MAX_CHAIN", 12)  # a run stored whole in between
    first, _, records = _generated(tmp_path)
    # a firm whose index decays from 2026-03-01 on: its bar (and that record's
    # deduction) ends on 2026-03-28, so its decaying answer is stored anew inside the
    # catch-up, and another record stops deducting on 2026-04-03
    firm = {**records.row(0, named=True), "subject_type": "bidder", "revoked_on": None,
            "repaired_on": None, "subject_id": "91440101MA5DECAY0" + uscc_check_char(
                "91440101MA5DECAY0")}
    decays = pl.DataFrame([
        {**firm, "record_id": f"decays-{code}", "behaviour_code": code, "decided_on": on,
         "recorded_on": on} for code, on in (
            ("BID-KEY-STAFF-CHANGE", D("2026-03-01")), ("BID-FALSE-MATERIAL-GP",
                                                        D("2025-03-28")),
            ("BID-WITHDRAW", D("2025-10-05")))], schema=records.schema)
    decays.write_csv(tmp_path / "decays.csv", date_format="%Y-%m-%d")
    (tmp_path / "single").mkdir()
    single, drop = empty_database(backend, tmp_path / "single")
    try:
        upgrade(single)
        add_user(single, "alice", "staff", PASSWORD, by="setup")
        for url in (store_url, single):
            import_records(url, [first, tmp_path / "decays.csv"], user="alice",
                           today=D("2026-03-21"))
            evaluate(url, D("2026-03-21"))  # whole
            evaluate(url, D("2026-03-22"))
        days = [D("2026-03-23") + dt.timedelta(days=i) for i in range(20)]
        with monkeypatch.context() as patched:
            going_on = _decays_going_on(patched)
            assert len(evaluate(store_url, days[-1])) == 20
        # a decay stored inside the catch-up went on
        assert sum(keys.filter(pl.col("decay_run_id") < 0).height for keys in going_on) > 0
        _no_walk(monkeypatch)
        for day in days:
            evaluate(single, day)
        for day in days:
            assert_frame_equal(stored_snapshot(store_url, day), stored_snapshot(single, day))
        stored, kept = _stored_rows(store_url)
        assert (stored, kept) == _stored_rows(single)
        assert _stored_by_day(store_url) == _stored_by_day(single)
        assert stored > 0 and kept > 0
        _assert_stored_equals_compute(store_url, days[::4])
    finally:
        dispose_engine(single)
        drop()


def test_a_page_of_a_stored_day_is_its_first_rows(store_url: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshots, "MAX_CHAIN", 4)
    first, late, _ = _generated(tmp_path)
    import_records(store_url, [first], user="alice", today=D("2026-03-21"))
    evaluate(store_url, D("2026-03-21"))
    import_records(store_url, [late], user="alice", today=D("2026-04-03"))
    for day in (D("2026-03-21"), D("2026-03-24"), D("2026-04-03"), D("2026-04-04")):
        evaluate(store_url, day)
        whole = stored_snapshot(store_url, day)
        rules_hash = snapshots.list_runs(store_url).get_column("rules_hash")[0]
        for subject_type in whole.get_column("subject_type").unique().to_list():
            mine = whole.filter(pl.col("subject_type") == subject_type)
            page = stored_page(store_url, day, rules_hash, subject_type, 25)
            assert page is not None
            assert_frame_equal(page.rows.select(mine.columns), mine.head(25))
            assert page.subjects == mine.height
            assert page.restricted == mine.get_column("restricted").sum()
            assert page.mean_index == pytest.approx(mine.get_column("index").mean())
    assert stored_page(store_url, D("2026-03-20"), rules_hash, "bidder", 25) is None


def test_a_page_of_a_stored_day_is_the_engines_answer(store_url: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    """The first page as the app reads it (only its rows, by index) equals the first
    rows of the engine's answer for that day: rows, order, ranks and the day's totals,
    for pages holding answers that decay, rows of later runs and runs copied whole
    from the state."""
    monkeypatch.setattr(snapshots, "MAX_CHAIN", 3)
    first, late, _ = _generated(tmp_path)
    import_records(store_url, [first], user="alice", today=D("2026-03-21"))
    evaluate(store_url, D("2026-03-21"))
    import_records(store_url, [late], user="alice", today=D("2026-04-03"))
    days = [D("2026-03-21"), D("2026-03-23"), D("2026-03-30"), D("2026-04-03"),
            D("2026-04-04")]
    touched = 0
    for day in days:
        evaluate(store_url, day)
        answer = compute(load_data(store_url), day, day).with_columns(
            pl.col("watch", "restricted_in").fill_null(""))
        rules_hash = snapshots.list_runs(store_url).get_column("rules_hash")[0]
        for subject_type in answer.get_column("subject_type").unique().to_list():
            mine = answer.filter(pl.col("subject_type") == subject_type)
            below_full = int((mine.get_column("index") < 100).sum())
            for size in (1, 25, mine.height - below_full + 5, mine.height):
                page = stored_page(store_url, day, rules_hash, subject_type, size)
                assert page is not None
                assert_frame_equal(page.rows.select(mine.columns), mine.head(size))
                assert page.subjects == mine.height
                assert page.restricted == mine.get_column("restricted").sum()
                assert page.mean_index == pytest.approx(mine.get_column("index").mean())
                touched += int((page.rows.get_column("index") < 100).sum())
    assert touched > 0  # pages held answers below the full mark (decaying among them)
    with get_engine(store_url).connect() as conn:
        whole = conn.execute(text("SELECT COUNT(*) FROM evaluation_run WHERE "
                                  "parent_run_id IS NULL")).scalar_one()
        decaying = conn.execute(text("SELECT COUNT(*) FROM decay_ledger")).scalar_one()
    assert whole >= 2 and decaying > 0  # copied whole from the state; answers decaying


def _assert_each_day_equals_compute(url: str, days: list[dt.date]) -> None:
    """Every stored day equals ``compute`` of that day alone, with the rule set in force
    that day."""
    for day in days:
        assert_frame_equal(stored_snapshot(url, day), compute(load_data(url, on=day), day, day),
                           check_dtypes=True)


def test_a_catch_up_takes_answers_ahead_that_equal_each_day_alone(
        store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A month caught up in one run takes most due subjects' answers from the spells
    computed when they were last recomputed, and every day equals ``compute`` of that
    day: across expiries and bars ending, publications ending, late records (recorded
    in the window, and imported between runs for a past day), a revocation and repairs
    recorded between runs (one dated inside the window: what is known changes there),
    a manual restriction and a rule set that takes effect inside the window."""
    first, late, records = _generated(tmp_path)
    ended = records.filter(pl.col("publish_until").is_not_null()
                           & (pl.col("publish_until") >= D("2026-03-03"))
                           & (pl.col("publish_until") <= D("2026-04-02")))
    assert ended.height > 0  # publications end inside the window
    import_records(store_url, [first], user="alice", today=D("2026-03-21"))
    evaluate(store_url, D("2026-03-01"))  # whole: every subject's answers ahead
    evaluate(store_url, D("2026-03-02"))
    # between runs: records for past days, a revocation, repairs (one dated ahead)
    import_records(store_url, [late], user="alice", today=D("2026-04-03"))
    standing = records.filter(pl.col("revoked_on").is_null() & pl.col("repaired_on").is_null()
                              & (pl.col("recorded_on") <= D("2026-03-01"))
                              & (pl.col("decided_on") < D("2025-01-01")))
    revoked, repaired, ahead = (standing.row(i, named=True) for i in (0, 1, 2))
    file_objection(store_url, revoked["source"], revoked["record_id"], user="alice",
                   reason="appeal", on=D("2026-03-02"))
    decide_objection(store_url, revoked["source"], revoked["record_id"], user="alice",
                     upheld=True, on=D("2026-03-02"))
    grant_repair(store_url, repaired["source"], repaired["record_id"], user="alice",
                 on=D("2026-03-02"))
    grant_repair(store_url, ahead["source"], ahead["record_id"], user="alice",
                 on=D("2026-03-18"))
    add_restriction(store_url, records.get_column("subject_id")[7], user="alice",
                    start=D("2026-03-05"), until=D("2026-03-09"), reason="manual")
    # a rule set in force from 2026-03-25: the days from then are evaluated under it
    stricter = (ROOT / "scoring_rules" / "default.toml").read_text(encoding="utf-8")
    stricter = stricter.replace('version = "', 'version = "9', 1).replace(
        "points = 5\n", "points = 6\n")
    (tmp_path / "stricter.toml").write_text(stricter, encoding="utf-8")
    publish_rules(store_url, tmp_path / "stricter.toml", "rita",
                  effective_from=D("2026-03-25"))
    taken: dict[dt.date, int] = {}  # per day, the subjects that took a spell
    read: list[int] = []
    spells, recompute, walk = day_plan._from_spells, day_plan._recompute, day_plan.walk

    def from_spells(carry: Any, ids: list[str], day: dt.date
                    ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, list[str]]:
        rows, decay, spell_decay, rest = spells(carry, ids, day)
        taken[day] = taken.get(day, 0) + rows.height
        return rows, decay, spell_decay, rest

    def walked(*args: Any) -> Walk:
        planned = walk(*args)
        for day, part in planned.days.items():
            taken[day] = taken.get(day, 0) + part.fresh.height
        return planned

    def recomputed(*args: Any) -> Any:
        fresh = recompute(*args)
        read.append(fresh.rows.height)
        return fresh

    monkeypatch.setattr(day_plan, "_from_spells", from_spells)
    monkeypatch.setattr(day_plan, "_recompute", recomputed)
    monkeypatch.setattr(day_plan, "walk", walked)
    caught = evaluate(store_url, D("2026-04-02"))  # 31 missed days in one run
    assert len(caught) == 31
    # read from records: the first day's subjects with new facts, those that reach a
    # day on which something becomes known (a late record, the repair dated ahead),
    # then every subject under the new rule set; the rest come from spells
    assert len(taken) >= 20 and sum(taken.values()) >= 30
    assert len(read) >= 3 and sum(read[1:-1]) < sum(taken.values())
    # (the days before were published without the records imported since)
    _assert_each_day_equals_compute(store_url, [D("2026-03-03") + dt.timedelta(days=i)
                                                for i in range(31)])
    # the next run starts from the state (and the spells) the catch-up left
    taken.clear()
    evaluate(store_url, D("2026-04-20"))
    assert sum(taken.values()) > 0
    _assert_each_day_equals_compute(store_url, [D("2026-04-03") + dt.timedelta(days=i)
                                                for i in range(18)])


def _count(url: str, table_name: str) -> int:
    with get_engine(url).connect() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table_name}")).scalar_one())


def _days_read(url: str, days: list[dt.date]) -> pl.DataFrame:
    return pl.concat([stored_snapshot(url, day).with_columns(pl.lit(day).alias("day"))
                      for day in days])


def test_spell_ledger_rows_a_run_names_read_the_same_until_copied(
        store_url: str, tmp_path: Path) -> None:
    """Runs that take a stored spell whose decay starts anew name its ledger rows
    (``decay_spell``, revision 0011) instead of copying them: the days read the same
    after the rows are copied into ``decay_ledger`` by a downgrade to 0010 and upgraded
    again, when the subject is recomputed from its records (a new fact) and when every
    spell is replaced (a list import)."""
    first, _, records = _generated(tmp_path)
    import_records(store_url, [first], user="alice", today=D("2026-03-21"))
    evaluate(store_url, D("2026-03-01"))  # whole: every subject's answers ahead
    evaluate(store_url, D("2026-03-02"))
    evaluate(store_url, D("2026-03-20"))  # 18 missed days, from spells
    days = [D("2026-03-02") + dt.timedelta(days=i) for i in range(19)]
    read, kept = _days_read(store_url, days), _stored_by_day(store_url)
    assert _count(store_url, "decay_spell") > 0
    engine = get_engine(store_url)
    with engine.begin() as conn:
        config = alembic_config(store_url)
        config.attributes["connection"] = conn
        command.downgrade(config, "0010")
    assert "decay_spell" not in inspect(engine).get_table_names()
    with engine.connect() as conn:  # every run's rows, now all in decay_ledger
        copied = sorted(tuple(str(v) for v in row) for row in conn.execute(text(
            "SELECT r.day, d.subject_id, d.subject_type, d.source, d.record_id, d.decided, "
            "d.end_day, d.nominal_end, d.days, d.amount FROM decay_ledger d "
            "JOIN evaluation_run r ON r.id = d.run_id")))
    assert copied == kept[1]
    upgrade(store_url)
    assert_frame_equal(_days_read(store_url, days), read)
    # more days from spells, then a subject that named rows recomputed (a new fact)
    evaluate(store_url, D("2026-03-24"))
    days += [D("2026-03-21") + dt.timedelta(days=i) for i in range(4)]
    read, kept = _days_read(store_url, days), _stored_by_day(store_url)
    with engine.connect() as conn:
        named = conn.execute(text("SELECT subject_id FROM decay_spell")).scalars().all()
    assert named
    add_restriction(store_url, named[0], user="alice", start=D("2026-03-25"),
                    until=D("2026-03-27"), reason="manual")
    evaluate(store_url, D("2026-03-25"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM decay_spell WHERE subject_id = "
                                 ":s"), {"s": named[0]}).scalar_one() == 0
    assert_frame_equal(_days_read(store_url, days), read)
    assert set(kept[1]) <= set(_stored_by_day(store_url)[1])  # the named rows stay
    _assert_stored_equals_compute(store_url, days[::3])
    # a list import: every subject evaluated whole, every spell replaced
    import_lists(store_url, [_lists(tmp_path, records)], user="alice")
    evaluate(store_url, D("2026-03-26"))
    assert _count(store_url, "decay_spell") == 0
    assert_frame_equal(_days_read(store_url, days), read)


def _state(url: str) -> pl.DataFrame:
    """Every state row with its answer (read through the run it names)."""
    with get_engine(url).connect() as conn:
        ids = conn.execute(text("SELECT subject_id FROM subject_state")).scalars().all()
        return state_rows(conn, list(dict.fromkeys(ids))).sort(KEY)


def _migrate(url: str, revision: str) -> None:
    with get_engine(url).begin() as conn:
        config = alembic_config(url)
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def test_the_state_names_the_runs_of_its_answers_in_both_revisions(
        store_url: str, tmp_path: Path) -> None:
    """Revision 0012: a state row names the run whose snapshot row is its answer
    (``answer_run_id``) instead of holding a copy. Downgraded to 0011 the state holds
    the answers again; upgraded, each row names the same run and the next days are
    stored as before; a state whose answer is not found stored is forgotten, and the
    next day is evaluated whole, with the same answers."""
    first, _, _ = _generated(tmp_path)
    import_records(store_url, [first], user="alice", today=D("2026-03-21"))
    evaluate(store_url, D("2026-03-01"))  # whole
    evaluate(store_url, D("2026-03-12"))  # 11 missed days
    state = _state(store_url)
    assert state.get_column("answer_run_id").n_unique() > 2
    _migrate(store_url, "0011")
    columns = [c for c in STATE_SCHEMA if c != "answer_run_id"]
    with get_engine(store_url).connect() as conn:
        held = query_frame(conn, f"SELECT {', '.join(columns)} FROM subject_state",
                           {c: STATE_SCHEMA[c] for c in columns}).sort(KEY)
    assert_frame_equal(held, state.drop("answer_run_id"))
    upgrade(store_url)
    assert_frame_equal(_state(store_url), state)
    evaluate(store_url, D("2026-03-20"))
    _assert_stored_equals_compute(store_url, [D("2026-03-13"), D("2026-03-17"),
                                              D("2026-03-20")])
    _migrate(store_url, "0011")
    with get_engine(store_url).begin() as conn:
        conn.execute(text("UPDATE subject_state SET reasons = 'not stored' WHERE "
                          "subject_id = :s"), {"s": state.item(0, "subject_id")})
    upgrade(store_url)
    assert _count(store_url, "evaluation_state") == _count(store_url, "subject_state") == 0
    runs = _count(store_url, "evaluation_run")
    evaluate(store_url, D("2026-03-21"))
    with get_engine(store_url).connect() as conn:
        assert conn.execute(text("SELECT parent_run_id FROM evaluation_run WHERE day = "
                                 ":d"), {"d": D("2026-03-21")}).scalar_one() is None
    assert _count(store_url, "evaluation_run") == runs + 1
    _assert_stored_equals_compute(store_url, [D("2026-03-20"), D("2026-03-21")])


def test_a_day_evaluated_again_when_due_whole_stores_its_new_answers(
        store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A day evaluated again after new facts, when its run is due to be stored whole
    (copied from the state), stores its new answers as a new revision: the state's own
    run being the day's latest does not make the answer unchanged."""
    monkeypatch.setattr(snapshots, "MAX_CHAIN", 2)
    first, _, _ = _generated(tmp_path)
    import_records(store_url, [first], user="alice", today=D("2026-03-21"))
    for day in ("2026-03-01", "2026-03-02", "2026-03-03"):  # whole, then two changes
        evaluate(store_url, D(day))
    before = stored_snapshot(store_url, D("2026-03-03"))
    subject = before.filter(~pl.col("restricted")).item(0, "subject_id")
    add_restriction(store_url, subject, user="alice", start=D("2026-03-02"),
                    until=D("2026-03-30"), reason="manual")
    (result,) = evaluate(store_url, D("2026-03-03"))
    assert (result.status, result.revision) == ("stored", 2)
    after = stored_snapshot(store_url, D("2026-03-03"))
    assert after.filter(pl.col("subject_id") == subject).get_column("restricted").all()
    _assert_stored_equals_compute(store_url, [D("2026-03-03")])
