"""Fuzz every reader under a memory cap (run by test_fuzz.py in a subprocess).

``python -m tests.adversarial.fuzz_readers EXAMPLES SEED MEMORY_MB`` caps the process's
address space with ``resource.setrlimit`` and feeds each reader random bytes, random
cells and random encodings (Hypothesis). Every reader must either answer or refuse with
:class:`InputError`; the store must be unchanged by a refused import. Any other
exception, a crash or running out of the capped memory fails the run (exit code != 0).
"""

from __future__ import annotations

import contextlib
import io
import resource
import sys
import tempfile
from pathlib import Path
from typing import Any

CELLS = ["", " ", "=1+1", "@SUM(A1)", "-2", "2025", "45000", "2026-13-02", "2026-02-01",
         "2026/2/1", "20260201", "2026年2月1日", "NOT-AN-ID", "91440106MA00000013",
         "110105194912310021", "housing", "bidder", "expert", "LATE", "BID-WITHDRAW",
         "440106", "甲公司", "\x00", "\ufeff", "\r", "\"", ",", "9" * 40, "é" * 3]
HEADERS = ["record_id", "source", "industry", "region", "subject_id", "subject_name",
           "subject_type", "behaviour_code", "decided_on", "recorded_on", "document_no",
           "revoked_on", "repaired_on", "list", "entry_id", "name", "listed_on", "until",
           "x", "Subject_ID"]
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "utf-16", "latin-1"]
MAPPING = ('kind = "list"\n[fields]\nlist = { value = "court" }\nname = "name"\n'
           'listed_on = "listed_on"\n')


def _cap(megabytes: int) -> None:
    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(examples: int, seed: int, megabytes: int) -> None:
    """Run the fuzzing; raise on the first reader that neither answers nor refuses."""
    _cap(megabytes)
    import openpyxl
    import polars as pl
    from hypothesis import HealthCheck, example, given, settings
    from hypothesis import seed as fix_seed
    from hypothesis import strategies as st
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    from creditindex.convert import convert
    from creditindex.errors import InputError
    from creditindex.lists import read_list_entries
    from creditindex.readers import read_table
    from creditindex.records import read_records, read_subjects
    from creditindex.rules import load_rules, parse_rules
    from creditindex.store.db import get_engine
    from creditindex.store.importer import import_records
    from creditindex.store.migrations import upgrade
    from creditindex.ui.tables import ids_from_upload

    rules = load_rules()
    work = Path(tempfile.mkdtemp(prefix="fuzz-"))
    store = f"sqlite:///{work / 'store.sqlite'}"
    upgrade(store)
    mapping = work / "m.toml"
    mapping.write_text(MAPPING, encoding="utf-8")

    def stored() -> tuple[int, ...]:
        with get_engine(store).connect() as conn:
            return tuple(int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {t}").scalar_one())
                         for t in ("penalty_record", "subject", "audit_log"))

    def answer_or_refuse(reader: Any, *args: Any) -> None:
        with contextlib.suppress(InputError):
            reader(*args)

    def every_reader(path: Path) -> None:
        answer_or_refuse(read_table, path)
        answer_or_refuse(read_records, [path], rules)
        answer_or_refuse(read_subjects, path)
        answer_or_refuse(read_list_entries, [path])
        answer_or_refuse(convert, path, mapping)
        answer_or_refuse(ids_from_upload, path.read_bytes(), path.name)
        before = stored()
        try:
            import_records(store, [path], today=None)
        except InputError:
            assert stored() == before, "a refused import changed the store"

    table = st.lists(st.lists(st.sampled_from(CELLS) | st.text(max_size=12), min_size=1,
                              max_size=8), min_size=1, max_size=6)

    @fix_seed(seed)
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(kind=st.sampled_from(["bytes", "csv", "xlsx", "toml"]),
           suffix=st.sampled_from([".csv", ".xlsx", ".parquet", ".txt"]),
           blob=st.binary(max_size=2048),
           header=st.lists(st.sampled_from(HEADERS), min_size=1, max_size=10),
           rows=table, encoding=st.sampled_from(ENCODINGS),
           far=st.sampled_from([None, "B2", "Z99", "XFD1048576", "AAA70000"]))
    @example(kind="xlsx", suffix=".xlsx", blob=b"", header=["subject_id"], rows=[["x"]],
             encoding="utf-8", far="XFD1048576")  # the bomb of issue 15, always tried
    def fuzz(kind: str, suffix: str, blob: bytes, header: list[str], rows: list[list[str]],
             encoding: str, far: str | None) -> None:
        case = Path(tempfile.mkdtemp(dir=work))
        if kind == "bytes":
            path = case / f"random{suffix}"
            path.write_bytes(blob)
        elif kind == "csv":
            path = case / "cells.csv"
            lines = [",".join(header), *(",".join(r) for r in rows)]
            path.write_bytes("\n".join(lines).encode(encoding, errors="replace"))
        elif kind == "xlsx":
            path = case / "cells.xlsx"
            wb = openpyxl.Workbook()
            ws = wb.active
            assert ws is not None
            ws.append(header)
            for r in rows:  # characters a worksheet cannot hold are left out
                ws.append([ILLEGAL_CHARACTERS_RE.sub("", c) for c in r])
            if far:
                ws[far] = "x"
            wb.save(path)
        else:
            path = case / "rules.toml"
            path.write_bytes(blob)
            with contextlib.suppress(InputError):
                parse_rules(blob.decode("utf-8", errors="replace"), str(path))
            answer_or_refuse(load_rules, path)
            return
        every_reader(path)
        buffer = io.BytesIO()
        try:
            pl.DataFrame({h: [c for c in col] for h, col in zip(
                dict.fromkeys(header), zip(*[r + [""] * len(header) for r in rows],
                                           strict=False), strict=False)}).write_parquet(buffer)
        except Exception:
            return
        parquet = case / "cells.parquet"
        parquet.write_bytes(buffer.getvalue())
        every_reader(parquet)

    fuzz()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
