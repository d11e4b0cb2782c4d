"""Identifiers as the faces show them publicly, by the one masking rule
(:mod:`creditindex.identifiers`): an expert's resident ID number is masked, a code the
store knows only as a firm's is shown whole, an unknown code is masked when it is a
valid resident ID number; in evidence payloads the texts are masked too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from creditindex.evaluate import CheckResult
from creditindex.identifiers import looks_personal, mask_text, public_id, rid_problem


def shown_ids(directory: pl.DataFrame, subject_ids: Sequence[str]) -> dict[str, str]:
    """How each identifier is shown publicly (``directory``: the subjects the store
    knows, with ``subject_id`` and ``subject_type``)."""
    roles = directory.filter(pl.col("subject_id").is_in(list(subject_ids))).group_by(
        "subject_id").agg((pl.col("subject_type") == "expert").any().alias("expert"))
    expert = dict(roles.iter_rows())
    shown = {}
    for sid in subject_ids:
        personal = expert.get(sid, looks_personal(sid) or rid_problem(sid) is None)
        shown[sid] = public_id(sid, "expert") if personal else sid
    return shown


def show_id(value: str, shown: dict[str, str]) -> str:
    """An identifier (or a consortium's ``A+B``) as shown publicly."""
    return "+".join(shown.get(p, public_id(p)) for p in value.split("+"))


def mask_payload(payload: dict[str, Any], result: CheckResult, shown: dict[str, str]
                 ) -> dict[str, Any]:
    """The evidence payload with identifiers as shown publicly (consortium members too)
    and any resident ID number in the texts masked."""
    def one(value: str) -> str:
        return show_id(value, shown)

    out = dict(payload)
    out["answers"] = [{**a, "subject_id": one(sid),
                       "reasons": mask_text(str(a.get("reasons") or ""))}
                      for a, sid in zip(payload["answers"],
                                        result.table.get_column("subject_id"), strict=True)]
    out["grounds"] = [{**g, "subject_id": one(sid),
                       "detail": mask_text(str(g.get("detail") or ""))}
                      for g, sid in zip(payload["grounds"],
                                        result.grounds.get_column("subject_id"), strict=True)]
    return out
