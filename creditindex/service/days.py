"""A day's answer for every subject, as the faces read it: the stored daily evaluation
(每日一评) when it stands for the data as they are now, else computed; the first page of a
large stored day by an indexed query; the directory of subjects and their industries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
from sqlalchemy import select

from creditindex import evaluate
from creditindex.evaluate import CreditData
from creditindex.identifiers import looks_personal_expr, public_id_expr
from creditindex.rules import RuleSet
from creditindex.service.auth import Permission, User
from creditindex.service.state import ready_engine
from creditindex.store.day_pages import DayPage, stored_page
from creditindex.store.db import read_transaction, table
from creditindex.store.snapshots import stored_snapshot


@dataclass(frozen=True)
class Rankings:
    """One day's answer for every subject, split by subject type (rank order)."""

    on: dt.date
    known_on: dt.date
    by_type: dict[str, pl.DataFrame]
    rules_hash: str

    def of(self, subject_type: str) -> pl.DataFrame:
        """The ranking of one subject type (empty when there are none)."""
        return self.by_type.get(subject_type, EMPTY_RANKING)


_COMPUTE_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String(), "subject_type": pl.String(), "subject_name": pl.String(),
    "index": pl.Float64(), "grade": pl.String(), "rank": pl.Int64(),
    "deducted": pl.Float64(), "restricted": pl.Boolean(), "reasons": pl.String()}
EMPTY_RANKING = pl.DataFrame(schema={**_COMPUTE_SCHEMA, "public_id": pl.String(),
                                     "region": pl.String(), "_search": pl.String()})


def region_of_id_expr(col: str = "subject_id", type_col: str = "subject_type") -> pl.Expr:
    """The registration region (GB/T 2260) carried by an identifier: characters 3-8 of a
    USCC, 1-6 of a resident ID number."""
    personal = (pl.col(type_col) == "expert") | looks_personal_expr(col)
    return pl.when(personal).then(pl.col(col).str.slice(0, 6)).otherwise(
        pl.col(col).str.slice(2, 6))


def prepare_rankings(scores: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Split ``compute`` output by subject type, each in rank order, with the public ID,
    the registration region and a search key (the public ID and the name, upper case:
    a part of an expert's hidden birth date finds nobody)."""
    ready = scores.with_columns(
        public_id_expr().alias("public_id"),
        region_of_id_expr().alias("region"),
    ).with_columns(
        pl.concat_str(pl.col("public_id"), pl.col("subject_name").fill_null(""),
                      separator=" ").str.to_uppercase().alias("_search"),
    )
    return {str(key[0]): part.sort("rank", "subject_id")
            for key, part in ready.partition_by("subject_type", as_dict=True).items()}


def published_subjects(url: str, state: str, rules_hash: str, day: dt.date) -> int | None:
    """How many subjects the day's stored snapshot (the daily evaluation, 每日一评)
    holds when it was made by this rule set from the data as they are now (``state``:
    :func:`creditindex.service.state.state`); else ``None``."""
    newest = int(state.split("@")[0])
    runs = table("evaluation_run")
    with read_transaction(ready_engine(url)) as conn:
        found = conn.execute(select(runs.c.n_subjects).where(
            runs.c.day == day, runs.c.known_on == day, runs.c.rules_hash == rules_hash,
            runs.c.data_version >= newest).limit(1)).scalar()
    return None if found is None else int(found)


def rankings(url: str, state: str, data: CreditData, on: dt.date, known_on: dt.date
             ) -> Rankings:
    """Every subject's index, grade, rank and restriction on ``on`` as known on
    ``known_on`` under ``data``'s rule set: the stored day when it is current, else
    computed by the engine from ``data``."""
    rules_hash = data.rules.content_hash
    scores = None
    if known_on == on and published_subjects(url, state, rules_hash, on) is not None:
        scores = stored_snapshot(url, on, rules_hash)
    if scores is None:
        scores = evaluate.compute(data, on, known_on)
    else:  # a snapshot keeps the grade (its watch label follows), not the categories
        if "watch" not in scores.columns:
            scores = scores.with_columns(
                evaluate.watch_expr(data.rules, pl.col("grade")).alias("watch"))
        if "restricted_in" not in scores.columns:
            scores = scores.with_columns(pl.lit(None, pl.String).alias("restricted_in"))
    return Rankings(on=on, known_on=known_on, by_type=prepare_rankings(scores),
                    rules_hash=rules_hash)


def first_page(url: str, state: str, rules_hash: str, on: dt.date, subject_type: str,
               size: int, min_subjects: int) -> DayPage | None:
    """The first ``size`` rows of the published day ``on`` for ``subject_type``, read by
    an indexed query; ``None`` when the day is not stored as it stands or has fewer than
    ``min_subjects`` subjects (the whole day is read instead)."""
    subjects = published_subjects(url, state, rules_hash, on)
    if subjects is None or subjects < min_subjects:
        return None
    return stored_page(url, on, rules_hash, subject_type, size)


def with_rules(data: CreditData, rules: RuleSet) -> CreditData:
    """``data`` under another rule set."""
    if rules.content_hash == data.rules.content_hash:
        return data
    return CreditData(records=data.records, rules=rules, subjects=data.subjects,
                      lists=data.lists, manual=data.manual)


def industry_list(url: str) -> list[str]:
    """Industries of the records held."""
    records = table("penalty_record")
    with read_transaction(ready_engine(url)) as conn:
        found = conn.execute(select(records.c.industry).distinct()).scalars().all()
    return sorted(str(i) for i in found)


def subjects_in_industries(records: pl.DataFrame, industries: Sequence[str],
                           known_on: dt.date) -> pl.Series:
    """Subject IDs with a penalty record (``subject_id, industry, recorded_on``) known on
    ``known_on`` in any of ``industries``."""
    return records.filter(pl.col("industry").is_in(list(industries))
                          & (pl.col("recorded_on") <= known_on)).get_column(
        "subject_id").unique()


def directory(data: CreditData) -> pl.DataFrame:
    """Every subject with its latest name and public ID (``subject_id, subject_type,
    subject_name, public_id``, and an upper-case ``_name`` to search)."""
    names = data.names().filter(pl.col("latest")).unique(["subject_id", "subject_type"],
                                                         keep="last")
    keys = data.subject_keys().join(names.drop("latest"), on=["subject_id", "subject_type"],
                                    how="left")
    return keys.with_columns(
        public_id_expr().alias("public_id"),
        pl.col("subject_name").fill_null("").str.to_uppercase().alias("_name"),
    ).sort("subject_type", "subject_id")


def find_subjects(directory_: pl.DataFrame, query: str, subject_type: str | None = None,
                  limit: int = 50, user: User | None = None) -> pl.DataFrame:
    """Subjects of :func:`directory` whose name or code contains ``query``
    (``subject_id, subject_type, subject_name, public_id``). Experts are found by name or
    by their whole resident ID number only, so that a part of one reveals nothing; only
    users allowed to see confidential data find them at all."""
    q = query.strip().upper()
    if not q:
        return directory_.head(0).drop("_name")
    personal = (pl.col("subject_type") == "expert") | looks_personal_expr()
    hit = (pl.col("_name").str.contains(q, literal=True)
           | (pl.col("subject_id") == q)
           | (~personal & pl.col("subject_id").str.contains(q, literal=True)))
    if subject_type:
        hit = hit & (pl.col("subject_type") == subject_type)
    if user is not None and not user.may(Permission.CONFIDENTIAL):
        hit = hit & ~personal
    return directory_.filter(hit).head(limit).drop("_name")


def subject_name(directory_: pl.DataFrame, subject_id: str,
                 subject_type: str | None = None) -> str:
    """A subject's latest name ('' when unknown)."""
    frame = directory_.filter(pl.col("subject_id") == subject_id)
    if subject_type:
        frame = frame.filter(pl.col("subject_type") == subject_type)
    names = frame.get_column("subject_name").drop_nulls()
    return str(names[0]) if names.len() else ""


def subject_types_of(directory_: pl.DataFrame, subject_id: str) -> list[str]:
    """The roles a subject has."""
    return directory_.filter(pl.col("subject_id") == subject_id).get_column(
        "subject_type").to_list()
