"""Checks of RPC arguments, with errors that name the field. A refused call writes nothing.

Messages never quote a value that could be a contact detail (records, lines); ids and enums are quoted.
"""
from __future__ import annotations

import re

from services.ad_triage.domain.ruleset import PRIORITIES
from services.ad_triage.domain.triage import STATES
from services.ad_triage.intake import FORMATS

MAX_BATCH = 5000
MAX_LINE = 100_000
MAX_PAGE = 500
_ACTOR = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class InvalidInput(ValueError):
    def __init__(self, message: str, field: str, code: str = "invalid_input") -> None:
        super().__init__(message)
        self.message, self.field, self.code = message, field, code


def actor(value: object) -> str:
    if not isinstance(value, str) or not _ACTOR.match(value):
        raise InvalidInput("actor must be a pseudonymous user id (letters, digits, . _ : -; at most 64)", "actor")
    return value


def lines(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput("lines must be a list of strings", "lines")
    if not value:
        raise InvalidInput("lines is empty: send at least one record", "lines", "empty_batch")
    if len(value) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} lines per call; split the file into chunks", "lines",
                           "batch_too_large")
    if any(len(v) > MAX_LINE for v in value):
        raise InvalidInput(f"a line is longer than {MAX_LINE} characters", "lines", "line_too_long")
    return value


def file_format(value: object) -> str:
    if value not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}, got {value!r}"[:200], "format",
                           "unknown_format")
    return value  # type: ignore[return-value]


def positive_int(value: object, field: str, default: int, maximum: int | None = None) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or (maximum and value > maximum):
        limit = f" and at most {maximum}" if maximum else ""
        raise InvalidInput(f"{field} must be a whole number, 0 or more{limit}", field)
    return value


def request_id(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 8 <= len(value) <= 100 or not _ACTOR.match(value[:64]):
        raise InvalidInput("request_id must be 8 to 100 letters, digits, . _ : or -", "request_id")
    return value


def ad_key(value: object) -> str:
    if not isinstance(value, str) or "/" not in value or not 3 <= len(value) <= 200:
        raise InvalidInput("ad_key must be platform/adId", "ad_key")
    return value


def text(value: object, field: str, limit: int = 1000) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field} must be non-empty text", field)
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field)
    return value.strip()


def optional_choice(value: object, field: str, choices: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if value not in choices:
        raise InvalidInput(f"{field} must be one of {', '.join(choices)}", field)
    return value  # type: ignore[return-value]


def state(value: object) -> str | None:
    return optional_choice(value, "state", STATES)


def priority(value: object) -> str | None:
    return optional_choice(value, "priority", PRIORITIES + ("none",))


def record(value: object) -> dict:
    if not isinstance(value, dict):
        raise InvalidInput("record must be a JSON object", "record")
    return value
