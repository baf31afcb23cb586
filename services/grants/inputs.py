"""Parsing of RPC arguments (JSON values) into domain values, with errors that name the field."""
from __future__ import annotations

from datetime import date

from services.grants.domain.errors import InvalidInput
from services.grants.domain.money import parse_ore
from services.grants.domain.organisations import Role, parse_org_id

MAX_TEXT = 10_000


def day(value: object, field: str) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(f"{field} must be a date as YYYY-MM-DD, got {value!r}", field=field)


def optional_day(value: object, field: str) -> date | None:
    return None if value is None else day(value, field)


def text(value: object, field: str, *, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field} must be non-empty text", field=field)
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field=field)
    return value.strip()


def optional_text(value: object, field: str) -> str:
    return "" if value is None else text(value, field)


def amount(value: object, field: str) -> int:
    return parse_ore(value, field=field)


def org_id(value: object, field: str) -> str:
    try:
        return parse_org_id(value)
    except Exception as exc:
        exc.field = field
        raise


def optional_org_id(value: object, field: str) -> str | None:
    return None if value in (None, "") else org_id(value, field)


def roles(value: object) -> frozenset[Role]:
    if not isinstance(value, (list, tuple)) or not value:
        raise InvalidInput("roles must be a non-empty list", field="roles")
    try:
        return frozenset(Role(r) for r in value)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInput(f"roles must be drawn from {allowed}, got {list(value)!r}", field="roles") from None


def request_key(method: str, request_id: object) -> str | None:
    """Idempotency key of a command; None when the caller sent no request id."""
    if request_id is None:
        return None
    if not isinstance(request_id, str) or not 8 <= len(request_id) <= 100:
        raise InvalidInput("request_id must be a string of 8 to 100 characters", field="request_id")
    return f"{method}:{request_id}"
