"""Outreach's edge checks: RPC arguments (JSON values) become domain values, or an error naming the field.

The generic checks come from kit.inputs; coded lists are checked by the domain (data/codes.json)."""
from __future__ import annotations

import re
from datetime import datetime

from kit.inputs import InvalidInput, actor, after, day, first, optional_day, optional_text, text, whole_number
from kit.inputs import id_checks

__all__ = ["InvalidInput", "actor", "after", "cluster_id", "day", "first", "moment", "optional_day",
           "optional_text", "persons", "record_id", "text"]

_IDS = {"venue_id": "ven", "visit_id": "vis", "task_id": "ot", "contact_id": "con"}
record_id, optional_record_id = id_checks(_IDS)
_CLUSTER = re.compile(r"^cl-[0-9a-f]{16}$")
MAX_LABEL = 200
MAX_ADDRESS = 300
MAX_NOTE = 4000


def cluster_id(value: object, field: str = "cluster_id") -> str:
    if not isinstance(value, str) or not _CLUSTER.match(value):
        raise InvalidInput(f"{field} must be an ad triage cluster id like cl-0123456789abcdef", field, "invalid_id")
    return value


def persons(value: object) -> int:
    return whole_number(value, "persons", default=-1, minimum=1, maximum=100) if value is not None else \
        _missing("persons")


def _missing(field: str):
    raise InvalidInput(f"{field} is required", field)


def moment(value: object, field: str) -> datetime:
    """An ISO 8601 time with its offset (a time without one is ambiguous across DST)."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    raise InvalidInput(f"{field} must be an ISO 8601 time with an offset, e.g. 2016-05-01T14:30:00+02:00", field)


def flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{field} must be true or false", field)
    return value
