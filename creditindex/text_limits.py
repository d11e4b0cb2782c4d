"""The longest text each canonical column may hold, declared once.

The frames' dtypes are declared with their frames (``records.RECORD_SCHEMA``,
``lists.LIST_SCHEMA``); how long a text value may be is declared here, and both the store's
column types (``store.models``) and the importer's checks (``store.importer``) are derived
from it, so a value the importer accepts always fits its column on every database.
"""

from __future__ import annotations

SUBJECT_ID = 32     # a USCC or resident ID is 18 characters; foreign codes leave room
SUBJECT_TYPE = 16
NAME = 255          # names, document numbers, authorities

# Penalty records (docs/semantics.md, "Records").
RECORD_TEXT: dict[str, int] = {
    "source": 128,
    "record_id": 128,
    "industry": 32,
    "region": 6,
    "subject_id": SUBJECT_ID,
    "subject_name": NAME,
    "subject_type": SUBJECT_TYPE,
    "behaviour_code": 64,
    "document_no": NAME,
    "restrict_scope": 128,
    "authority": NAME,
}
# Registered subjects (a subjects file).
SUBJECT_TEXT: dict[str, int] = {
    "subject_id": SUBJECT_ID,
    "subject_type": SUBJECT_TYPE,
    "subject_name": NAME,
    "country": 64,
}
# External list entries, by their canonical column names (docs/semantics.md, "Lists").
LIST_TEXT: dict[str, int] = {
    "list": 128,
    "entry_id": 128,
    "subject_id": SUBJECT_ID,
    "country": 64,
    "scope": 128,
    "financier": 64,
}
