"""Edge checks shared by every service: RPC arguments become values or one error type with a code and a field.

Messages never quote a value that could be personal (free text, records); ids and choices are quoted.
"""
from __future__ import annotations

import re
from datetime import date

MAX_TEXT = 10_000
MAX_PAGE = 500
_ACTOR = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,100}$")


class InvalidInput(ValueError):
    """A caller's argument was refused; ``code`` and ``field`` reach the caller (GraphQL ``extensions``)."""

    def __init__(self, message: str, field: str | None = None, code: str = "invalid_input") -> None:
        super().__init__(message)
        self.message, self.field, self.code = message, field, code


def text(value: object, field: str, *, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field} must be non-empty text", field)
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field, "too_long")
    return value.strip()


def optional_text(value: object, field: str, *, limit: int = MAX_TEXT) -> str | None:
    return None if value is None else text(value, field, limit=limit)


def actor(value: object, field: str = "actor") -> str:
    if not isinstance(value, str) or not _ACTOR.match(value):
        raise InvalidInput(f"{field} must be a pseudonymous user id (letters, digits, . _ : -; at most 64)", field)
    return value


def request_id(value: object, *, required: bool = False) -> str | None:
    """The client's idempotency key of a command: a retry reuses it, so the command runs once."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or not _REQUEST_ID.match(value):
        raise InvalidInput("request_id must be 8 to 100 letters, digits, . _ : or -", "request_id")
    return value


def whole_number(value: object, field: str, *, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (
            maximum is not None and value > maximum):
        limit = f" and at most {maximum}" if maximum is not None else ""
        raise InvalidInput(f"{field} must be a whole number, {minimum} or more{limit}", field)
    return value


def page(limit: object, offset: object, *, default: int = 50, maximum: int = MAX_PAGE) -> tuple[int, int]:
    """(limit, offset) of a list query; a page is never larger than ``maximum``."""
    return (whole_number(limit, "limit", default=default, minimum=1, maximum=maximum),
            whole_number(offset, "offset", default=0))


def choice(value: object, field: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise InvalidInput(f"{field} must be one of {', '.join(choices)}", field)
    return value


def optional_choice(value: object, field: str, choices: tuple[str, ...]) -> str | None:
    return None if value is None else choice(value, field, choices)


def day(value: object, field: str) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(f"{field} must be a date as YYYY-MM-DD", field)


def optional_day(value: object, field: str) -> date | None:
    return None if value is None else day(value, field)


def record_id(value: object, field: str, prefix: str) -> str:
    """A record id this platform gave out: ``<prefix>-`` and 16 lower-case hex digits."""
    if not isinstance(value, str) or not re.fullmatch(rf"{prefix}-[0-9a-f]{{16}}", value):
        raise InvalidInput(f"{field} must be an id like {prefix}-0123456789abcdef", field, "invalid_id")
    return value


def first(value: object, *, default: int = 20, maximum: int = 100) -> int:
    """The size of a keyset page (kit.keyset)."""
    return whole_number(value, "first", default=default, minimum=1, maximum=maximum)


def after(value: object) -> str | None:
    """A keyset page's cursor as the client gave it back (kit.keyset decodes it)."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 500:
        raise InvalidInput("after is not a cursor this API gave out", "after", "invalid_cursor")
    return value


def id_checks(prefixes: dict[str, str]):
    """``record_id(value, field)`` and ``optional_record_id(value, field)`` for a service whose id fields are named
    in ``prefixes`` (field -> id prefix)."""
    def checked_id(value: object, field: str) -> str:
        return record_id(value, field, prefixes[field])

    def optional_id(value: object, field: str) -> str | None:
        return None if value is None else checked_id(value, field)
    return checked_id, optional_id
