"""Idempotent consumption: a processed event's id is recorded in the same transaction as its effect."""
from __future__ import annotations

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
# Fault injection for the failure tests only: stop inside the open transaction, after the effect and before the
# commit, so a test can kill the process at the worst moment. The marker file makes it happen once.
FAULT_ENV = "CONSUMER_FAULT_PAUSE_MARKER"


def handle_once(client: MongoClient, db: Database, consumer: str, event: dict,
                effect: Callable[[ClientSession], None]) -> bool:
    """Apply ``effect`` unless ``consumer`` already handled this event id; True when it was applied now."""
    key = f"{consumer}:{event['id']}"

    def work(session: ClientSession) -> bool:
        if db[COLLECTION].find_one({"_id": key}, session=session) is not None:
            return False
        db[COLLECTION].insert_one({"_id": key, "type": event["type"], "subject": event["subject"],
                                   "handledAt": datetime.now(timezone.utc)}, session=session)
        effect(session)
        _pause_for_fault_test()
        return True

    try:
        return in_transaction(client, work)
    except DuplicateKeyError:
        # another worker committed the same event between our read and our insert: its effect stands alone
        return False


def _pause_for_fault_test() -> None:
    marker = os.environ.get(FAULT_ENV)
    if not marker or os.path.exists(marker):
        return
    with open(marker, "w") as fh:
        fh.write(str(os.getpid()))
    while True:
        time.sleep(1)
