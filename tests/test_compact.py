"""Compact records (creditindex.compact): the day's answer from compact Parquet records is
the canonical frame's answer, copies of an act included; what cannot be compact is read
the canonical way; bad rows are refused with the same problems."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from creditindex import evaluate
from creditindex.cli import main
from creditindex.compact import read_compact_records
from creditindex.days import to_day
from creditindex.engine.codes import SubjectCodes, subject_codes
from creditindex.engine.ledger import BehaviourTable, RowColumns
from creditindex.errors import InputError
from creditindex.generate import generate_records, generate_subjects
from creditindex.readers import read_parquet_rows, read_parquet_rows_of, read_table
from creditindex.records import SCORING_COLUMNS, read_records
from creditindex.rules import load_rules

DAY = dt.date(2026, 11, 25)


@pytest.fixture(autouse=True)
def _compact_from_any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("creditindex.compact.COMPACT_FROM", 0)


def _records(n: int = 4000) -> pl.DataFrame:
    """Generated records with copies of acts added: the same decision published by a
    second source (same document number, recorded later), the same act without a
    document number, and texts with spaces to trim."""
    rules = load_rules()
    records = generate_records(generate_subjects(n // 4, seed=3), n, rules, seed=3)
    picked = records.head(300)
    copies = picked.with_columns(
        pl.concat_str(pl.lit("COPY-"), pl.col("record_id")).alias("record_id"),
        pl.lit("信用中国（广东）").alias("source"),
        (pl.col("recorded_on") + pl.duration(days=pl.int_range(pl.len()) % 3)).alias(
            "recorded_on"))
    blank = records.slice(300, 50).with_columns(
        pl.concat_str(pl.lit("BLANK-"), pl.col("record_id")).alias("record_id"),
        pl.lit("  ").alias("document_no"))
    spaced = records.slice(400, 20).with_columns(
        pl.concat_str(pl.lit(" "), pl.col("subject_name"), pl.lit(" ")).alias("subject_name"),
        pl.concat_str(pl.col("document_no"), pl.lit(" ")).alias("document_no"))
    return pl.concat([records.slice(0, 400), spaced, records.slice(420), copies, blank])


def _write(tmp_path: Path, frame: pl.DataFrame, parts: int = 2) -> list[str]:
    paths = []
    size = -(-frame.height // parts)
    for i in range(parts):
        path = tmp_path / f"records{i}.parquet"
        frame.slice(i * size, size).write_parquet(path, row_group_size=700)
        paths.append(str(path))
    return paths


def test_compact_answer_is_the_canonical_answer(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("creditindex.readers.PART_ROWS", 1000)  # many parts per file
    rules = load_rules()
    paths = _write(tmp_path, _records())
    canonical = read_records(paths, rules, today=DAY, columns=SCORING_COLUMNS)
    for on, known_on in ((DAY, None), (dt.date(2025, 6, 30), dt.date(2025, 6, 1))):
        k = to_day(known_on or on)
        found = read_compact_records(paths, rules, today=DAY, known_on=k)
        assert found is not None
        compact, text, found_codes, found_columns = found
        assert (compact.get_column("_copy_rank") >= 0).sum() > 300
        _assert_same_codes(found_codes, subject_codes(compact))
        assert found_columns is not None
        _assert_same_columns(found_columns, RowColumns.of(compact, BehaviourTable.of(rules), k))
        want = evaluate.compute(evaluate.CreditData(records=canonical, rules=rules),
                                on, known_on)
        # what the reader found, or not, or row columns of another day (not used)
        other = RowColumns.of(compact, BehaviourTable.of(rules), k - 400)
        for codes_given, columns_given in ((None, None), (found_codes, found_columns),
                                           (found_codes, other)):
            got = evaluate.compute(evaluate.CreditData(
                records=compact, rules=rules, text=text, codes=codes_given,
                columns=columns_given), on, known_on)
            assert got.equals(want)
        assert want.filter(pl.col("restricted")).height > 0


def _assert_same_codes(a: SubjectCodes, b: SubjectCodes) -> None:
    for name in ("order", "offsets", "first_row", "hash_a", "hash_b"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def _assert_same_columns(a: RowColumns, b: RowColumns) -> None:
    assert a.known_on == b.known_on
    for name in ("counts", "decided", "recorded", "repaired", "until", "scope", "beh"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_text_read_back_is_as_first_read(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("creditindex.readers.PART_ROWS", 1000)
    path = _write(tmp_path, _records(), parts=1)[0]
    whole = read_table(path)
    rows = np.array([0, 5, 999, 1000, 1001, 4100, whole.height - 1])
    columns = ["record_id", "subject_name", "document_no", "no_such_column"]
    got = read_parquet_rows(path, rows, columns)
    assert got.select(columns[:3]).equals(whole.select(columns[:3])[rows.tolist()])
    assert got.get_column("no_such_column").null_count() == rows.size
    assert not got.get_column("subject_name").str.starts_with(" ").any()


def test_rows_asked_together_read_as_asked_alone(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("creditindex.readers.PART_ROWS", 1000)
    paths = _write(tmp_path, _records(), parts=2)
    found = read_compact_records(paths, load_rules(), today=DAY)
    assert found is not None
    compact, text, _, _ = found
    n = compact.height
    asks = [(np.array([n - 1, 0, 7, 7, 2500]), ["subject_id", "subject_name"]),
            (np.array([3, n - 2, 1999, 2000]), ["subject_id", "record_id", "document_no"]),
            (np.array([], dtype=np.int64), ["record_id"]),
            (np.array([10, 11]), ["subject_name", "no_such_column"])]
    together = text.gather_each(asks)
    for (rows, columns), got in zip(asks, together, strict=True):
        assert got.equals(text.gather(rows, columns))
        assert got.columns == columns and got.height == rows.size
    path = paths[0]
    rows = np.array([0, 5, 999, 1000, 1001])
    alone = read_parquet_rows_of(path, [(rows, ["record_id"]), (rows[2:], ["subject_name"])])
    assert alone[0].equals(read_parquet_rows(path, rows, ["record_id"]))
    assert alone[1].equals(read_parquet_rows(path, rows[2:], ["subject_name"]))


def test_repeated_record_keys_are_read_the_canonical_way(tmp_path: Path) -> None:
    records = _records(1000)
    later = records.head(3).with_columns(pl.lit(DAY).alias("revoked_on"))
    paths = _write(tmp_path, pl.concat([records, later]), parts=1)
    assert read_compact_records(paths, load_rules(), today=DAY) is None
    out = tmp_path / "answer.csv"
    result = CliRunner().invoke(main, ["compute", "--records", paths[0], "--on",
                                       DAY.isoformat(), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert pl.read_csv(out).height > 0


def test_cli_compact_and_canonical_write_the_same_bytes(tmp_path: Path) -> None:
    records = _records(2000)
    parquet = _write(tmp_path, records, parts=1)[0]
    csv = tmp_path / "records.csv"
    records.write_csv(csv)
    subjects = tmp_path / "subjects.csv"  # some with records (their names win), some not
    generate_subjects(600, seed=3).tail(300).write_csv(subjects)
    outs = []
    assert read_compact_records([parquet], load_rules(), today=DAY) is not None
    for source in (parquet, str(csv)):  # Parquet is read compact, CSV canonically
        out = tmp_path / f"answer-{Path(source).suffix[1:]}.csv"
        result = CliRunner().invoke(main, ["compute", "--records", source, "--on",
                                           DAY.isoformat(), "--subjects", str(subjects),
                                           "--category", "engineering", "--out", str(out)])
        assert result.exit_code == 0, result.output
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_bad_rows_are_refused_with_file_row_and_column(tmp_path: Path) -> None:
    records = _records(1200).with_columns(
        pl.when(pl.int_range(pl.len()) == 1100).then(pl.lit("NO-SUCH-CODE"))
        .otherwise(pl.col("behaviour_code")).alias("behaviour_code"))
    paths = _write(tmp_path, records, parts=1)
    with pytest.raises(InputError) as caught:
        read_compact_records(paths, load_rules(), today=DAY)
    [problem] = caught.value.problems
    assert (problem.file, problem.row, problem.column) == (paths[0], 1102, "behaviour_code")
    assert "unknown behaviour code 'NO-SUCH-CODE'" in problem.reason
    out = tmp_path / "answer.csv"
    result = CliRunner().invoke(main, ["compute", "--records", paths[0], "--on",
                                       DAY.isoformat(), "--out", str(out)])
    assert result.exit_code == 2
    assert "1102" in result.output and "behaviour_code" in result.output
    assert not out.exists()


def test_small_files_are_read_the_canonical_way(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    records = _records(1000)
    paths = _write(tmp_path, records)
    monkeypatch.setattr("creditindex.compact.COMPACT_FROM", records.height + 1)
    assert read_compact_records(paths, load_rules(), today=DAY) is None
    monkeypatch.setattr("creditindex.compact.COMPACT_FROM", records.height)
    assert read_compact_records(paths, load_rules(), today=DAY) is not None


def test_colliding_first_key_hashes_change_no_answer(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Compact records hold each subject key's two hashes, not its subject_id: when the
    first hash collides (forced here: five values for every subject), subjects are told
    apart by both hashes, and the answer is the canonical frame's."""
    from creditindex.engine import codes

    real = codes.key_hash_exprs

    def colliding(id_col: str = "subject_id", type_col: str = "subject_type"
                  ) -> tuple[pl.Expr, pl.Expr]:
        a, b = real(id_col, type_col)
        return (a % 5).alias(codes.KEY_HASHES[0]), b

    monkeypatch.setattr("creditindex.compact.key_hash_exprs", colliding)
    fallbacks: list[int] = []
    exact = codes._exact_codes

    def counted(*args: object) -> object:
        fallbacks.append(1)
        return exact(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(codes, "_exact_codes", counted)
    rules = load_rules()
    paths = _write(tmp_path, _records(2000))
    found = read_compact_records(paths, rules, today=DAY)
    assert found is not None
    compact, text, found_codes, _ = found
    assert "subject_id" not in compact.columns
    assert compact.get_column(codes.KEY_HASHES[0]).n_unique() <= 5
    canonical = read_records(paths, rules, today=DAY, columns=SCORING_COLUMNS)
    want = evaluate.compute(evaluate.CreditData(records=canonical, rules=rules), DAY)
    got = evaluate.compute(evaluate.CreditData(records=compact, rules=rules, text=text,
                                               codes=found_codes), DAY)
    assert fallbacks
    assert got.equals(want)


def test_subject_ids_read_back_as_first_read(tmp_path: Path) -> None:
    """The answer's subject_ids are read back from the file for compact records: trimmed
    and upper-cased as the checks read them."""
    records = _records(1000)
    messy = records.with_columns(
        pl.when(pl.int_range(pl.len()) % 3 == 0)
        .then(pl.concat_str(pl.lit(" "), pl.col("subject_id").str.to_lowercase(),
                            pl.lit("  ")))
        .otherwise(pl.col("subject_id")).alias("subject_id"))
    rules = load_rules()
    answers = []
    for name, frame in (("clean", records), ("dirty", messy)):
        (tmp_path / name).mkdir()
        paths = _write(tmp_path / name, frame, parts=1)
        found = read_compact_records(paths, rules, today=DAY)
        assert found is not None
        answers.append(evaluate.compute(evaluate.CreditData(
            records=found.records, rules=rules, text=found.text, codes=found.codes), DAY))
    assert answers[1].equals(answers[0])
