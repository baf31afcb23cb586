"""Building and reading event envelopes: CloudEvents 1.0 attributes plus W3C trace context.

Events staged through the outbox also carry the CloudEvents extension attribute ``sequence``: the position of the
event among its subject's (its aggregate's) events, 1, 2, 3, ... assigned in the transaction that staged it. Order
per subject is that number, never a clock. Events published before it existed have no ``sequence`` and still
validate.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from kit.contracts import ContractError, Registry, dataschema_uri, default_registry


def new_event(event_type: str, source_service: str, subject: str, data: dict, *, traceparent: str | None = None,
              tracestate: str | None = None, registry: Registry | None = None, event_id: str | None = None,
              time: datetime | None = None, sequence: int | None = None) -> dict:
    """Make an envelope for the current version of ``event_type``; raises ContractError if it does not validate.

    ``sequence`` is the event's position among its subject's events (extension attribute, integer >= 1)."""
    registry = registry or default_registry()
    contract = registry.contract(event_type)
    envelope = {
        "specversion": "1.0",
        "id": event_id or uuid.uuid4().hex,
        "source": f"/actionplan/{source_service}",
        "type": event_type,
        "subject": subject,
        "time": (time or datetime.now(timezone.utc)).isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "dataschema": dataschema_uri(event_type, contract.current),
        "data": data,
    }
    if sequence is not None:
        envelope["sequence"] = sequence
    if traceparent:
        envelope["traceparent"] = traceparent
    if tracestate:
        envelope["tracestate"] = tracestate
    registry.validate(envelope)
    return envelope


def encode(envelope: dict) -> bytes:
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode("utf-8")


def decode(raw: bytes | None, registry: Registry | None = None) -> dict:
    """Parse and validate a consumed message; raises ContractError with the reason for a poison message."""
    if raw is None:
        raise ContractError("message has no value")
    try:
        envelope = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError(f"message is not JSON: {exc}") from None
    (registry or default_registry()).validate(envelope)
    return envelope
