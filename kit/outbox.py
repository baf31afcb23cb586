"""Transactional outbox: events are written as rows in the same MongoDB transaction as the state change.

A relay (kit.relay) publishes pending rows to Kafka and marks them sent. Rows are ordered by the time they were
written and their position within the transaction, so events of one aggregate reach Kafka in the order they happened.
"""
from __future__ import annotations

import itertools
import time
from datetime import datetime, timezone

from pymongo import ASCENDING
from pymongo.client_session import ClientSession
from pymongo.database import Database

from kit import tracing
from kit.contracts import Registry, default_registry
from kit.envelope import new_event
from kit.settings import Settings

COLLECTION = "outbox"
PENDING, SENT = "pending", "sent"
_seq = itertools.count()


def order_key() -> str:
    """Sortable position of a row: time first, then a process-wide counter, so rows written in one transaction
    keep the order they were written in."""
    return f"{time.time_ns():020d}-{next(_seq):012d}"


def ensure_indexes(db: Database) -> None:
    db[COLLECTION].create_index([("status", ASCENDING), ("order", ASCENDING)])


class Outbox:
    def __init__(self, db: Database, settings: Settings, registry: Registry | None = None) -> None:
        self._rows = db[COLLECTION]
        self._settings = settings
        self._registry = registry or default_registry()

    def add(self, session: ClientSession, event_type: str, subject: str, data: dict) -> dict:
        """Validate and stage one event inside ``session``'s transaction; returns its envelope."""
        row = self._row(event_type, subject, data)
        self._rows.insert_one(row, session=session)
        return row["envelope"]

    def add_many(self, session: ClientSession, events: list[tuple[str, str, dict]]) -> list[dict]:
        """Stage many (type, subject, data) events with one insert, in order; returns their envelopes."""
        rows = [self._row(*event) for event in events]
        if rows:
            self._rows.insert_many(rows, ordered=True, session=session)
        return [row["envelope"] for row in rows]

    def _row(self, event_type: str, subject: str, data: dict) -> dict:
        carrier = tracing.current_traceparent()
        envelope = new_event(event_type, self._settings.service, subject, data, registry=self._registry,
                             traceparent=carrier.get("traceparent"), tracestate=carrier.get("tracestate"))
        contract = self._registry.contract(event_type)
        return {
            "_id": envelope["id"],
            "order": order_key(),
            "topic": self._settings.topic(contract.topic),
            "key": subject,
            "type": event_type,
            "envelope": envelope,
            "status": PENDING,
            "createdAt": datetime.now(timezone.utc),
        }
