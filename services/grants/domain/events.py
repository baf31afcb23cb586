"""Domain events and the injected clock.

The domain returns events; it never publishes them. The service layer wraps each one in the CloudEvents envelope
(id, source, dataschema, trace context) and writes it to the outbox in the same transaction as the state change.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable

from .errors import InvalidInput

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def fixed_clock(at: datetime) -> Clock:
    return lambda: at


def aware(at: datetime, field_name: str = "time") -> datetime:
    # a naive time is ambiguous across the DST change and cannot be ordered against stored UTC times
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput(f"{field_name} must be a timezone-aware datetime, got {at!r}", field=field_name)
    return at


def require_text(value: object, field_name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field_name} must be a non-empty string, got {value!r}", field=field_name)
    return value


@dataclass(frozen=True)
class DomainEvent:
    """A fact that happened. ``type`` is past tense (``grants.award.committed``); amounts in ``data`` are øre."""
    type: str
    subject: str  # the aggregate id; the relay uses it as the Kafka key so order holds per aggregate
    time: datetime
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "subject": self.subject, "time": self.time.isoformat(),
                "data": {k: _plain(v) for k, v in self.data.items()}}


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
