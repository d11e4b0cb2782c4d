"""Helpers of the service tests (imported by name, as ``storetest`` is by the store's)."""

from __future__ import annotations

import datetime as dt

TODAY = dt.date.today()
