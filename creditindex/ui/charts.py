"""Altair charts of the faces. Every label comes in already translated. Altair is
imported when a chart is drawn (0.2 s of CPU a process that no first page needs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    import altair as alt


def restricted_spans(history: pl.DataFrame) -> pl.DataFrame:
    """Runs of restricted days of a history (``date, restricted``): ``start, end``
    (``end`` is the first day after the run)."""
    runs = history.sort("date").with_columns(
        (pl.col("restricted") != pl.col("restricted").shift(1)).fill_null(True).cum_sum()
        .alias("_run"))
    return runs.filter(pl.col("restricted")).group_by("_run").agg(
        pl.col("date").min().alias("start"),
        (pl.col("date").max() + pl.duration(days=1)).alias("end")).drop("_run").sort("start")


def history_chart(history: pl.DataFrame, marks: pl.DataFrame, *, x_title: str,
                  y_title: str, mark_title: str, tooltip_titles: dict[str, str],
                  base: float, floor: float) -> alt.LayerChart:
    """The index over time as a step line, restricted days shaded, and one marker per
    deduction on its decision day (``marks``: ``date, index, label, points, expires_on,
    record_id``)."""
    import altair as alt

    line = alt.Chart(history).mark_line(interpolate="step-after", color="#1f77b4").encode(
        x=alt.X("date:T", title=x_title, axis=alt.Axis(format="%Y-%m")),
        y=alt.Y("index:Q", title=y_title, scale=alt.Scale(domain=[floor, base])),
        tooltip=[alt.Tooltip("date:T", title=x_title), alt.Tooltip("index:Q", title=y_title),
                 alt.Tooltip("grade:N", title=tooltip_titles["grade"])],
    )
    shade = alt.Chart(restricted_spans(history)).mark_rect(
        color="#d62728", opacity=0.10).encode(
        x="start:T", x2="end:T", y=alt.datum(base), y2=alt.datum(floor),
    )
    points = alt.Chart(marks).mark_point(shape="triangle-down", size=110, filled=True,
                                         color="#d62728").encode(
        x="date:T", y="index:Q",
        tooltip=[alt.Tooltip("date:T", title=mark_title),
                 alt.Tooltip("label:N", title=tooltip_titles["behaviour"]),
                 alt.Tooltip("points:Q", title=tooltip_titles["points"]),
                 alt.Tooltip("expires_on:T", title=tooltip_titles["expires_on"]),
                 alt.Tooltip("record_id:N", title=tooltip_titles["record_id"])],
    )
    rules = alt.Chart(marks).mark_rule(color="#d62728", strokeDash=[3, 3], opacity=0.5
                                       ).encode(x="date:T")
    return alt.LayerChart(layer=[shade, rules, line, points], height=320)


def distribution_chart(bins: pl.DataFrame, *, x_title: str, y_title: str,
                       series_title: str, order: list[str], step: float = 5.0
                       ) -> alt.FacetChart:
    """The index distribution before and after, side by side per bin, one panel per
    subject type. ``bins``: ``subject_type`` (translated), ``series`` (translated),
    ``index`` (bin start), ``subjects`` (counted already: a few rows for any number of
    subjects)."""
    import altair as alt

    ticks = [float(i) for i in range(0, 100, int(step))]
    chart: alt.FacetChart = alt.Chart(bins).mark_bar().encode(
        x=alt.X("index:O", title=x_title, sort=ticks, scale=alt.Scale(domain=ticks),
                axis=alt.Axis(labelAngle=0, values=ticks[::4], format=".0f")),
        xOffset=alt.XOffset("series:N", sort=order),
        y=alt.Y("subjects:Q", title=y_title, scale=alt.Scale(type="symlog")),
        color=alt.Color("series:N", sort=order, title=series_title),
        tooltip=[alt.Tooltip("series:N", title=series_title),
                 alt.Tooltip("index:Q", title=x_title),
                 alt.Tooltip("subjects:Q", title=y_title)],
    ).properties(height=170, width=300).facet(
        facet=alt.Facet("subject_type:N", title=None), columns=2)
    return chart
