"""Tender credit points (信用分): the regulator's formula for one tender, applied to the
bidders' indices and grades on the bid deadline, and the table an evaluation committee
pastes into its report.

A formula is ``index × weight`` (e.g. 综合信用得分 = supplier credit index × 5%) or a
grade → points table, bounded by ``min_points`` and ``max_points``; a bidder restricted
on the deadline gets ``ineligible_points``. Points are rounded to 2 decimals, half away
from zero (四舍五入), as the index is. Items that favour bidders by locality (local
registration, local tax, local performance) are refused: 发改办财金〔2023〕860号 forbids
credit measures that act as regional barriers. Pure: frames in, frames out.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from creditindex.engine import round_half_away
from creditindex.output import neutralise_formulas

LOCALITY_WORDS = ("local", "region", "province", "city", "district", "territor", "本地",
                  "本市", "本省", "地区", "地域", "属地", "外地")
NO_LOCALITY = ("locality-based items are not allowed in credit points "
               "(发改办财金〔2023〕860号: no regional barriers)")


class FormulaError(ValueError):
    """A formula that cannot be used; the message names every problem."""


class PointsFormula(BaseModel):
    """A tender's credit-points formula."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    basis: str = Field(min_length=1, description="The regulator's document (文件依据).")
    method: Literal["index_weight", "grade_table"]
    weight: float | None = Field(default=None, gt=0)
    grade_points: dict[str, float] | None = None
    min_points: float = 0.0
    max_points: float | None = None
    ineligible_points: float = 0.0

    @model_validator(mode="before")
    @classmethod
    def _no_locality(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if any(w in str(key).lower() for w in LOCALITY_WORDS):
                    raise ValueError(f"{key}: {NO_LOCALITY}")
            for grade in (data.get("grade_points") or {}):
                if any(w in str(grade).lower() for w in LOCALITY_WORDS):
                    raise ValueError(f"grade_points.{grade}: {NO_LOCALITY}")
        return data

    @model_validator(mode="after")
    def _consistent(self) -> PointsFormula:
        if self.method == "index_weight" and self.weight is None:
            raise ValueError("method index_weight needs a weight (points per index point)")
        if self.method == "grade_table" and not self.grade_points:
            raise ValueError("method grade_table needs grade_points (grade → points)")
        if self.max_points is not None and self.max_points < self.min_points:
            raise ValueError(f"max_points {self.max_points} is below min_points "
                             f"{self.min_points}")
        return self

    @property
    def content_hash(self) -> str:
        """sha256 of the formula's canonical JSON."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def describe(self) -> str:
        """The formula in words (Chinese), for the committee's table."""
        if self.method == "index_weight":
            rule = f"信用分 = 信用指数 × {self.weight:g}"
        else:
            table = "，".join(f"{g} {p:g}分" for g, p in (self.grade_points or {}).items())
            rule = f"按等级计分：{table}"
        cap = f"，最高 {self.max_points:g} 分" if self.max_points is not None else ""
        return (f"{rule}{cap}，最低 {self.min_points:g} 分；投标截止时受限的投标人计 "
                f"{self.ineligible_points:g} 分（依据：{self.basis}）")


def parse_formula(raw: dict[str, Any], where: str = "formula") -> PointsFormula:
    """A formula from plain data, refused with every problem named."""
    try:
        return PointsFormula.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"]) or where
            problems.append(f"{where}: {loc}: {err['msg']}")
        raise FormulaError("; ".join(problems)) from exc


def points_expr(formula: PointsFormula, grades: list[str]) -> pl.Expr:
    """The points of a row with ``eligible``, ``index`` and ``grade`` columns."""
    if formula.method == "index_weight":
        assert formula.weight is not None
        raw = pl.col("index") * formula.weight
    else:
        table = formula.grade_points or {}
        missing = [g for g in grades if g not in table]
        if missing:
            raise FormulaError(f"grade_points has no points for grade(s) {', '.join(missing)}")
        raw = pl.col("grade").replace_strict(table, return_dtype=pl.Float64)
    bounded = raw.clip(lower_bound=formula.min_points, upper_bound=formula.max_points)
    return round_half_away(pl.when(pl.col("eligible")).then(bounded).otherwise(
        pl.lit(formula.ineligible_points)))


def compute_points(formula: PointsFormula, answers: pl.DataFrame) -> pl.DataFrame:
    """``answers`` (``subject_id, eligible, index, grade`` and anything else) with a
    ``points`` column."""
    grades = answers.get_column("grade").unique().to_list() if answers.height else []
    return answers.with_columns(points_expr(formula, grades).alias("points"))


COMMITTEE_COLUMNS = {"seq": "序号", "subject_name": "投标人名称", "subject_id": "统一社会信用代码",
                     "eligible": "资格核查结论", "index": "信用指数", "grade": "信用等级",
                     "points": "信用分", "check_no": "核查编号", "verify_code": "验证码"}


def committee_table(points: pl.DataFrame) -> pl.DataFrame:
    """The frozen points as the table an evaluation committee pastes into its report:
    Chinese headers, by points descending then name."""
    ordered = points.sort(["points", "subject_name"], descending=[True, False])
    return neutralise_formulas(ordered.with_columns(
        pl.int_range(1, pl.len() + 1).alias("seq"),
        pl.when(pl.col("eligible")).then(pl.lit("符合")).otherwise(pl.lit("不符合"))
        .alias("eligible"),
    ).select(list(COMMITTEE_COLUMNS)).rename(COMMITTEE_COLUMNS))


def table_bytes(table: pl.DataFrame, fmt: str) -> bytes:
    """The committee table as CSV (UTF-8 with BOM, for Excel) or XLSX bytes."""
    buf = io.BytesIO()
    if fmt == "csv":
        buf.write(b"\xef\xbb\xbf")
        table.write_csv(buf)
    elif fmt == "xlsx":
        table.write_excel(buf, worksheet="信用分", autofit=True)
    else:
        raise ValueError(f"unknown table format '{fmt}' (use csv or xlsx)")
    return buf.getvalue()
