"""Idempotent consumption: a processed event's id is recorded in the same transaction as its effect."""
from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timezone
from typing import Callable

from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from kit.mongo import in_transaction

COLLECTION = "inbox"
POSITIONS = "positions"  # per (consumer, subject): the highest sequence handled, and the gaps and reorders seen
log = logging.getLogger("actionplan.inbox")
# Fault injection for the failure tests only: stop inside the open transaction, after the effect and before the
# commit, so a test can kill the process at the worst moment. The marker file makes it happen once.
FAULT_ENV = "CONSUMER_FAULT_PAUSE_MARKER"


def handle_once(client: MongoClient, db: Database, consumer: str, event: dict,
                effect: Callable[[ClientSession], None], whole_stream: bool = False) -> bool:
    """Apply ``effect`` unless ``consumer`` already handled this event id; True when it was applied now.

    ``whole_stream``: the consumer takes every event of its subjects, so a skipped sequence number is a gap worth
    counting; a consumer of some types only (evaluation counts submissions, not drafts) sees skips by design and
    counts reorders alone."""
    key = f"{consumer}:{event['id']}"

    def work(session: ClientSession) -> bool:
        if db[COLLECTION].find_one({"_id": key}, session=session) is not None:
            return False
        db[COLLECTION].insert_one({"_id": key, "type": event["type"], "subject": event["subject"],
                                   "handledAt": datetime.now(timezone.utc)}, session=session)
        _track_sequence(db, consumer, event, session, whole_stream)
        effect(session)
        _pause_for_fault_test()
        return True

    try:
        return in_transaction(client, work)
    except DuplicateKeyError:
        # another worker committed the same event between our read and our insert: its effect stands alone
        return False


def sequence_of(event: dict) -> int | None:
    """The envelope's ``sequence`` extension (per subject, from 1), or None when it has none (older events)."""
    seq = event.get("sequence")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        return None
    return seq


def _track_sequence(db: Database, consumer: str, event: dict, session: ClientSession, whole_stream: bool) -> None:
    """Keep the highest sequence handled per (consumer, subject) and count gaps and reorders, in the handler's
    transaction. Both are reported, not refused: the effect is applied all the same. Logs ids and numbers only."""
    seq = sequence_of(event)
    if seq is None:
        return
    position_id = f"{consumer}:{event['subject']}"
    position = db[POSITIONS].find_one({"_id": position_id}, {"last": 1}, session=session)
    last = position["last"] if position else 0
    gap, reorder = whole_stream and seq > last + 1, seq <= last
    if gap:
        log.warning("sequence gap for %s subject %s: event %s has sequence %d, the last handled was %d",
                    consumer, event["subject"], event["id"], seq, last)
    elif reorder:
        # the inbox did not know this event id, so it is another event than the one that had this number or later
        log.warning("sequence reorder for %s subject %s: event %s has sequence %d after %d was handled",
                    consumer, event["subject"], event["id"], seq, last)
    update = {"$max": {"last": seq}, "$inc": {"gaps": int(gap), "reorders": int(reorder)},
              "$set": {"consumer": consumer, "subject": event["subject"], "updatedAt": datetime.now(timezone.utc)}}
    db[POSITIONS].update_one({"_id": position_id}, update, upsert=True, session=session)


def _pause_for_fault_test() -> None:
    marker = os.environ.get(FAULT_ENV)
    if not marker or os.path.exists(marker):
        return
    with open(marker, "w") as fh:
        fh.write(str(os.getpid()))
    while True:
        time.sleep(1)
