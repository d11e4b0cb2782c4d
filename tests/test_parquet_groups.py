"""The rows of each row group, read from a Parquet file's footer
(creditindex/parquet_groups.py), are those pyarrow reads, whatever wrote the file; a
file whose footer cannot be read gives ``None``; the parts a file is read in
(:func:`creditindex.readers.part_spans`) are cut at row-group boundaries and cover
every row once, in order."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from creditindex import readers
from creditindex.parquet_groups import row_group_rows
from creditindex.readers import part_spans, read_table_parts


def frame(n: int) -> pl.DataFrame:
    return pl.DataFrame({
        "record_id": [f"R{i:07d}" for i in range(n)],
        "flag": [i % 3 == 0 for i in range(n)],
        "day": [dt.date(2020, 1, 1) + dt.timedelta(days=i % 500) for i in range(n)],
        "points": [None if i % 7 == 0 else i * 0.5 for i in range(n)],
        "name": ["公司" * (i % 5) for i in range(n)],
    })


def pyarrow_groups(path: Path) -> list[int]:
    meta = pq.ParquetFile(path).metadata
    return [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]


@pytest.mark.parametrize("n,group", [(0, 10), (1, 10), (1000, 128), (5000, 1000), (999, 1000)])
@pytest.mark.parametrize("statistics", [True, False])
def test_polars_files_read_as_pyarrow_reads_them(tmp_path: Path, n: int, group: int,
                                                 statistics: bool) -> None:
    path = tmp_path / "rows.parquet"
    frame(n).write_parquet(path, row_group_size=group, statistics=statistics)
    assert row_group_rows(path) == pyarrow_groups(path)


@pytest.mark.parametrize("compression", ["snappy", "zstd", "none"])
def test_pyarrow_files_with_metadata_read_as_pyarrow_reads_them(tmp_path: Path,
                                                                compression: str) -> None:
    path = tmp_path / "rows.parquet"
    table = frame(3000).to_arrow().replace_schema_metadata({"origin": "test", "k": "v" * 300})
    pq.write_table(table, path, row_group_size=700, compression=compression,
                   write_page_index=True, use_dictionary=["name"])
    assert row_group_rows(path) == [700, 700, 700, 700, 200] == pyarrow_groups(path)


def test_nested_columns_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "nested.parquet"
    table = pa.table({"a": [[1, 2], None, [3]] * 100,
                      "m": [{"x": 1}, {"y": 2}, {}] * 100,
                      "s": [{"p": 1, "q": "t"}] * 300})
    pq.write_table(table, path, row_group_size=128)
    assert row_group_rows(path) == [128, 128, 44] == pyarrow_groups(path)


@pytest.mark.parametrize("content", [b"", b"PAR1", b"not parquet at all, just text\n",
                                     b"PAR1" + b"\x00" * 20 + b"\x10\x00\x00\x00PAR1",
                                     b"PAR1" + b"\xff" * 20 + b"\x14\x00\x00\x00PAR1"])
def test_what_is_not_a_readable_footer_gives_none(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(content)
    assert row_group_rows(path) is None


def test_a_truncated_file_gives_none(tmp_path: Path) -> None:
    path = tmp_path / "rows.parquet"
    frame(1000).write_parquet(path, row_group_size=100)
    data = path.read_bytes()
    path.write_bytes(data[:-48] + data[-8:])
    assert row_group_rows(path) is None
    assert row_group_rows(tmp_path / "missing.parquet") is None


@pytest.mark.parametrize("groups,rows,expected", [
    ([125, 125, 125, 125, 125, 125, 125, 125], 262,
     [(0, 250), (250, 250), (500, 250), (750, 250)]),
    ([100, 100, 100], 250, [(0, 200), (200, 100)]),
    ([600, 10, 10], 250, [(0, 200), (200, 200), (400, 200), (600, 20)]),
    ([10, 600], 250, [(0, 10), (10, 200), (210, 200), (410, 200)]),
    ([0], 250, [(0, 0)]),
])
def test_parts_are_whole_row_groups_or_even_pieces_of_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, groups: list[int], rows: int,
        expected: list[tuple[int, int]]) -> None:
    monkeypatch.setattr(readers, "row_group_rows", lambda _: groups)
    assert part_spans(tmp_path / "x.parquet", sum(groups), rows) == expected


def test_parts_without_a_footer_are_cut_every_so_many_rows(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.setattr(readers, "row_group_rows", lambda _: None)
    assert part_spans(tmp_path / "x.parquet", 25, 10) == [(0, 10), (10, 10), (20, 10)]
    assert part_spans(tmp_path / "x.parquet", 0, 10) == [(0, 10)]
    # a footer that disagrees with the file's rows is not trusted
    monkeypatch.setattr(readers, "row_group_rows", lambda _: [10, 10])
    assert part_spans(tmp_path / "x.parquet", 25, 10) == [(0, 10), (10, 10), (20, 10)]


@pytest.mark.parametrize("group,rows", [(100, 250), (300, 250), (7, 1000)])
def test_a_file_read_in_parts_reads_every_row_once_in_order(tmp_path: Path, group: int,
                                                            rows: int) -> None:
    path = tmp_path / "rows.parquet"
    whole = frame(1234)
    whole.write_parquet(path, row_group_size=group)
    parts = list(read_table_parts(path, rows=rows, keep_dates=True))
    assert all(len(p) <= rows for _, p in parts)
    assert [offset for offset, _ in parts] == [
        sum(len(p) for _, p in parts[:i]) for i in range(len(parts))]
    got = pl.concat([p for _, p in parts])
    assert got.get_column("record_id").to_list() == whole.get_column("record_id").to_list()


def test_a_file_written_again_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "rows.parquet"
    frame(1000).write_parquet(path, row_group_size=500)
    assert row_group_rows(path) == [500, 500]
    frame(1000).write_parquet(path, row_group_size=250)
    assert row_group_rows(path) == [250, 250, 250, 250]
    first = row_group_rows(path)
    assert first is not None
    first.append(1)  # the caller's list: not the one kept
    assert row_group_rows(path) == [250, 250, 250, 250]
