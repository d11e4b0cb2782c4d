"""Tender credit points: formulas (index × weight, grade table, caps), refusals (locality
items per 860号, missing parts), the committee's table as CSV and XLSX."""

from __future__ import annotations

import io
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from creditindex.points import (
    FormulaError,
    committee_table,
    compute_points,
    parse_formula,
    table_bytes,
)

WEIGHT = {"name": "综合信用得分", "basis": "穗财采〔2026〕1号", "method": "index_weight",
          "weight": 0.05, "max_points": 4.5, "min_points": 1}
GRADES = {"name": "等级计分", "basis": "某市办法", "method": "grade_table",
          "grade_points": {"A": 5, "B": 3, "C": 1, "D": 0}, "ineligible_points": 0}


def answers(index: list[float], grade: list[str], eligible: list[bool]) -> pl.DataFrame:
    return pl.DataFrame({"subject_id": [f"S{i}" for i in range(len(index))],
                         "subject_name": [f"公司{i}" for i in range(len(index))],
                         "eligible": eligible, "index": index, "grade": grade})


@settings(deadline=None)  # a busy shared machine
@example([(21.5, True), (23.7, True)])  # 1.075 and 1.185: halves in exact arithmetic
@given(st.lists(st.tuples(st.floats(0, 100, allow_nan=False), st.booleans()), min_size=1,
                max_size=20))
def test_index_times_weight_is_bounded_and_zero_when_restricted(
        rows: list[tuple[float, bool]]) -> None:
    formula = parse_formula(WEIGHT)
    frame = answers([round(i, 2) for i, _ in rows], ["A"] * len(rows), [e for _, e in rows])
    got = compute_points(formula, frame).get_column("points").to_list()
    for (index, eligible), points in zip(rows, got, strict=True):
        exact = Decimal(str(round(index, 2))) * Decimal("0.05")  # 四舍五入 of the exact value
        bounded = min(max(exact, Decimal(1)), Decimal("4.5"))
        want = bounded.quantize(Decimal("0.01"), ROUND_HALF_UP) if eligible else Decimal(0)
        assert points == float(want)


def test_a_grade_table_and_its_missing_grades() -> None:
    formula = parse_formula(GRADES)
    got = compute_points(formula, answers([95, 80, 70, 40], ["A", "B", "C", "D"],
                                          [True, True, True, False]))
    assert got.get_column("points").to_list() == [5.0, 3.0, 1.0, 0.0]
    partial = parse_formula({**GRADES, "grade_points": {"A": 5}})
    with pytest.raises(FormulaError, match="no points for grade"):
        compute_points(partial, answers([80], ["B"], [True]))


@pytest.mark.parametrize(("change", "reason"), [
    ({"local_registration": 2}, "860号"),
    ({"grade_points": {"A": 5, "本地企业": 2}}, "860号"),
    ({"region_bonus": 1}, "860号"),
    ({"weight": None}, "needs a weight"),
    ({"max_points": 0.5}, "below min_points"),
    ({"basis": ""}, "basis"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_formulas_are_refused_with_the_reason(change: dict[str, object], reason: str
                                                  ) -> None:
    base = GRADES if "grade_points" in change else WEIGHT
    with pytest.raises(FormulaError, match=reason):
        parse_formula({**base, **change})


def test_the_committee_table_as_csv_and_xlsx() -> None:
    scored = compute_points(parse_formula(WEIGHT), answers(
        [90, 100, 50], ["A", "A", "D"], [True, True, False])).with_columns(
        pl.lit("HC1").alias("check_no"), pl.lit("CODE").alias("verify_code"))
    table = committee_table(scored.with_columns(
        pl.Series("subject_name", ["=HYPERLINK(1)", "乙", "丙"])))
    assert table.columns[:3] == ["序号", "投标人名称", "统一社会信用代码"]
    assert table.get_column("信用分").to_list() == [4.5, 4.5, 0.0]
    assert "'=HYPERLINK(1)" in table.get_column("投标人名称").to_list()  # no formula in Excel
    text = table_bytes(table, "csv").decode("utf-8-sig")
    assert text.splitlines()[0].startswith("序号,投标人名称")
    back = pl.read_excel(io.BytesIO(table_bytes(table, "xlsx")))
    assert back.get_column("信用分").to_list() == [4.5, 4.5, 0.0]
