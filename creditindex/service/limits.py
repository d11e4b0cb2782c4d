"""Limits on what a visitor who has not signed in can ask and store, all configurable
through the environment, each refusal with a clear message:

- ``CREDITINDEX_ANON_MAX_SUBJECTS`` (50): IDs in one anonymous eligibility check;
- ``CREDITINDEX_MAX_SUBJECTS`` (5000): IDs in one check by a signed-in user;
- ``CREDITINDEX_ANON_CHECKS_PER_SESSION`` (30): checks one anonymous session may store
  in a day;
- ``CREDITINDEX_ANON_CHECKS_PER_DAY`` (2000): checks all anonymous visitors together
  may store in a day;
- ``CREDITINDEX_ANON_BYTES_PER_DAY`` (50 MB): evidence all anonymous visitors together
  may store in a day (the evidence payloads' JSON; a report stored by an earlier release
  counts its HTML).

Anonymous checks are stored under ``anonymous:<session>`` (never the server's account).
"""

from __future__ import annotations

from dataclasses import dataclass

from creditindex.limits import env_int


@dataclass(frozen=True)
class Limits:
    """The limits in force (read from the environment when asked)."""

    anon_subjects: int
    subjects: int
    anon_per_session: int
    anon_per_day: int
    anon_bytes_per_day: int


def limits() -> Limits:
    """The limits as configured now."""
    return Limits(
        anon_subjects=env_int("CREDITINDEX_ANON_MAX_SUBJECTS", 50),
        subjects=env_int("CREDITINDEX_MAX_SUBJECTS", 5000),
        anon_per_session=env_int("CREDITINDEX_ANON_CHECKS_PER_SESSION", 30),
        anon_per_day=env_int("CREDITINDEX_ANON_CHECKS_PER_DAY", 2000),
        anon_bytes_per_day=env_int("CREDITINDEX_ANON_BYTES_PER_DAY", 50_000_000),
    )


class LimitReached(Exception):
    """A request refused by a limit: the catalogue key of the message and its values."""

    def __init__(self, key: str, **values: int) -> None:
        self.key = key
        self.values = values
        super().__init__(f"{key}: {values}")
