"""Reading CSV files (creditindex/readers.py): UTF-8 bytes go to polars as they are,
other text is decoded first; the size limits are counted on the bytes; every refusal
names the file and the reason. Every test runs twice: a file read into memory, and the
same file checked mapped in memory and read by polars from its path (as large files are),
its newlines counted in blocks of a few bytes so that lines straddle the blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from creditindex import readers
from creditindex.errors import InputError
from creditindex.limits import env_name
from creditindex.readers import read_table

HEADER = "Subject_Name , region\n"
ROWS = ["招标代理有限公司,440100", " 建设集团 ,\t440300 ", "\"多行\n名称\",440100", ","]


@pytest.fixture(autouse=True, params=["in memory", "mapped"])
def how_read(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "mapped":
        monkeypatch.setattr(readers, "_MAP_FROM", 0)
        monkeypatch.setattr(readers, "_COUNT_BLOCK", 5)
    return str(request.param)


def write(tmp_path: Path, content: bytes, name: str = "rows.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_every_encoding_reads_the_same_trimmed_text(tmp_path: Path, encoding: str) -> None:
    path = write(tmp_path, (HEADER + "\n".join(ROWS) + "\n").encode(encoding))
    frame = read_table(path)
    assert frame.columns == ["subject_name", "region"]
    assert frame.rows() == [("招标代理有限公司", "440100"), ("建设集团", "440300"),
                            ("多行\n名称", "440100"), (None, None)]


def test_bytes_named_like_a_file_read_as_the_file(tmp_path: Path) -> None:
    content = (HEADER + "\n".join(ROWS)).encode("gb18030")
    assert read_table(content, "upload.csv").equals(read_table(write(tmp_path, content)))


def test_text_neither_utf8_nor_gb18030_is_refused_with_its_offset(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER.encode() + b"\x81\x20broken,440100\n")
    with pytest.raises(InputError) as error:
        read_table(path)
    assert str(error.value) == (f"{path}: the text is neither UTF-8 nor GBK/GB18030 "
                                f"(undecodable bytes at offset {len(HEADER)})")


def test_a_binary_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="binary file, not text"):
        read_table(write(tmp_path, b"PK\x03\x04\x00\x00rows"))


def test_a_malformed_utf8_csv_is_refused_as_unreadable(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read file"):
        read_table(write(tmp_path, b'a,b\n"open quote,1\n2,3,4,5\n'))


@pytest.mark.parametrize(("limit", "value", "what"), [
    ("max_rows", 3, "number of rows 5 exceeds the limit of 3"),
    ("max_columns", 1, "number of columns 2 exceeds the limit of 1"),
])
def test_size_limits_are_counted_on_the_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              limit: str, value: int, what: str) -> None:
    monkeypatch.setenv(env_name(limit), str(value))
    # four rows, five lines after the header (a quoted name spans two): lines are counted
    path = write(tmp_path, (HEADER + "\n".join(ROWS) + "\n").encode("gb18030"))
    with pytest.raises(InputError) as error:
        read_table(path)
    assert what in str(error.value) and env_name(limit) in str(error.value)


def test_a_mapped_file_reads_as_the_same_bytes(tmp_path: Path, how_read: str) -> None:
    content = ("\ufeff" + HEADER + "\r\n".join(ROWS)).encode("utf-8")
    assert read_table(write(tmp_path, content)).equals(read_table(content, "upload.csv"))
