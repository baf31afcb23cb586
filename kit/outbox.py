"""Transactional outbox: events are written as rows in the same MongoDB transaction as the state change.

A relay (kit.relay) publishes pending rows to Kafka and marks them sent, or parks a row the broker can never take.

Order per aggregate is a number, not a clock: every row gets the next ``sequence`` of its subject (1, 2, 3, ...)
from the ``outbox_sequences`` collection, incremented inside the staging transaction, so two transactions on one
subject conflict and commit one after the other with consecutive numbers, whatever the clocks of the processes that
ran them say. The relay publishes one subject's rows in that order and never publishes n before n-1 is settled.
``order`` (wall clock plus a process counter) only breaks ties between subjects and orders rows without a sequence
(staged before sequences existed).
"""
from __future__ import annotations

import itertools
import time
from datetime import datetime, timezone

from pymongo import ASCENDING, UpdateOne
from pymongo.client_session import ClientSession
from pymongo.database import Database

from kit import tracing
from kit.contracts import Registry, default_registry
from kit.envelope import new_event
from kit.settings import Settings

COLLECTION = "outbox"
# one document per subject: {_id: subject, assigned: last sequence given out, published: last one the relay settled}
SEQUENCES = "outbox_sequences"
PENDING, SENT, PARKED = "pending", "sent", "parked"
SETTLED = (SENT, PARKED)
_seq = itertools.count()


def order_key() -> str:
    """Sortable position of a row: time first, then a process-wide counter, so rows written in one transaction
    keep the order they were written in."""
    return f"{time.time_ns():020d}-{next(_seq):012d}"


def ensure_indexes(db: Database) -> None:
    rows = db[COLLECTION]
    # the relay's poll: pending rows. MongoDB answers it from the compound indexes below; the local MongoDB-wire
    # server only from an index on the one field, without which every poll read every row ever sent (89 ms at
    # 50,000 rows, every 200 ms, also when idle; 1.2 ms with it)
    rows.create_index([("status", ASCENDING)])
    rows.create_index([("status", ASCENDING), ("order", ASCENDING)])
    rows.create_index([("status", ASCENDING), ("sequence", ASCENDING), ("order", ASCENDING)])
    rows.create_index([("key", ASCENDING), ("sequence", ASCENDING)])


def next_sequences(db: Database, session: ClientSession | None, subjects: list[str]) -> list[int]:
    """Reserve the next sequence number of each subject in ``subjects`` (one per entry, in order) inside
    ``session``'s transaction: one read and one write for all of them, however many subjects a batch stages.

    The numbers come from the values read; the increments written in the same transaction make a concurrent
    transaction that reserved numbers of one of these subjects conflict with this one, so one of them is retried
    and no number is given out twice."""
    wanted: dict[str, int] = {}
    for subject in subjects:
        wanted[subject] = wanted.get(subject, 0) + 1
    stored = {doc["_id"]: doc.get("assigned", 0)
              for doc in db[SEQUENCES].find({"_id": {"$in": sorted(wanted)}}, {"assigned": 1}, session=session)}
    db[SEQUENCES].bulk_write([UpdateOne({"_id": subject}, {"$inc": {"assigned": count}}, upsert=True)
                              for subject, count in sorted(wanted.items())], ordered=False, session=session)
    last = {subject: stored.get(subject, 0) for subject in wanted}  # numbers last+1 .. last+count are ours
    numbers = []
    for subject in subjects:
        last[subject] += 1
        numbers.append(last[subject])
    return numbers


class Outbox:
    def __init__(self, db: Database, settings: Settings, registry: Registry | None = None) -> None:
        self._db = db
        self._rows = db[COLLECTION]
        self._settings = settings
        self._registry = registry or default_registry()

    def add(self, session: ClientSession, event_type: str, subject: str, data: dict) -> dict:
        """Validate and stage one event inside ``session``'s transaction; returns its envelope."""
        return self.add_many(session, [(event_type, subject, data)])[0]

    def add_many(self, session: ClientSession, events: list[tuple[str, str, dict]]) -> list[dict]:
        """Stage many (type, subject, data) events with one insert, in order; returns their envelopes."""
        if not events:
            return []
        for event_type, _, _ in events:
            self._registry.contract(event_type)  # an unknown type fails before any number is taken
        sequences = next_sequences(self._db, session, [subject for _, subject, _ in events])
        rows = [self._row(*event, sequence) for event, sequence in zip(events, sequences)]
        if len(rows) == 1:
            self._rows.insert_one(rows[0], session=session)
        else:
            self._rows.insert_many(rows, ordered=True, session=session)
        return [row["envelope"] for row in rows]

    def _row(self, event_type: str, subject: str, data: dict, sequence: int) -> dict:
        carrier = tracing.current_traceparent()
        envelope = new_event(event_type, self._settings.service, subject, data, registry=self._registry,
                             traceparent=carrier.get("traceparent"), tracestate=carrier.get("tracestate"),
                             sequence=sequence)
        contract = self._registry.contract(event_type)
        return {
            "_id": envelope["id"],
            "sequence": sequence,
            "order": order_key(),
            "topic": self._settings.topic(contract.topic),
            "key": subject,
            "type": event_type,
            "envelope": envelope,
            "status": PENDING,
            "createdAt": datetime.now(timezone.utc),
        }
