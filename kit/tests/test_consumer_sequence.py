"""The inbox keeps each subject's highest sequence per consumer and counts gaps and reorders (MongoDB-wire server)."""
import logging
import tempfile
from pathlib import Path

import pytest
from pymongo import MongoClient

from deploy.local.stack import Stack, free_port
from kit.inbox import handle_once
from tests.support.events import submitted

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def db():
    workdir = Path(tempfile.mkdtemp(prefix="inbox-seq-"))
    stack = Stack(workdir, {"PATH": "/usr/local/bin:/usr/bin:/bin"})
    stack.start_mongo(free_port(), workdir / "data")
    client = MongoClient(stack.env["MONGO_URI"], tz_aware=True)
    yield client, client["seq_test"]
    client.close()
    stack.stop()


def numbered(subject: str, seq: int | None) -> dict:
    event = submitted(subject)
    if seq is not None:
        event["sequence"] = seq
    return event


def apply(db, event, whole_stream=True) -> bool:
    client, database = db
    return handle_once(client, database, "c1", event,
                       lambda s: database.effects.insert_one({"id": event["id"]}, session=s), whole_stream)


def test_in_order_has_no_gap_or_reorder_and_keeps_the_highest(db):
    assert all(apply(db, numbered("s-order", n)) for n in (1, 2, 3))
    position = db[1].positions.find_one({"_id": "c1:s-order"})
    assert (position["last"], position["gaps"], position["reorders"]) == (3, 0, 0)


def test_gaps_and_reorders_are_counted_and_logged_without_payload(db, caplog):
    caplog.set_level(logging.WARNING, "actionplan.inbox")
    events = {n: numbered("s-gap", n) for n in (1, 4, 2)}
    assert all(apply(db, events[n]) for n in (1, 4, 2))  # 4 after 1: a gap; 2 after 4: a reorder
    position = db[1].positions.find_one({"_id": "c1:s-gap"})
    assert (position["last"], position["gaps"], position["reorders"]) == (4, 1, 1)
    messages = [r.getMessage() for r in caplog.records]
    assert any("gap" in m and events[4]["id"] in m and " 4," in m for m in messages)
    assert any("reorder" in m and events[2]["id"] in m for m in messages)
    assert not any("applicationId" in m or "amountRequested" in m for m in messages)


def test_a_consumer_of_some_types_counts_reorders_but_not_skips(db):
    events = {n: numbered("s-part", n) for n in (2, 5, 3)}
    assert all(apply(db, events[n], whole_stream=False) for n in (2, 5, 3))
    position = db[1].positions.find_one({"_id": "c1:s-part"})
    assert (position["last"], position["gaps"], position["reorders"]) == (5, 0, 1)


def test_a_redelivery_is_neither_applied_nor_counted(db):
    event = numbered("s-dup", 1)
    assert apply(db, event) and not apply(db, event)
    position = db[1].positions.find_one({"_id": "c1:s-dup"})
    assert (position["last"], position["gaps"], position["reorders"]) == (1, 0, 0)
    assert db[1].effects.count_documents({"id": event["id"]}) == 1


def test_events_without_a_sequence_are_handled_as_before(db):
    assert apply(db, numbered("s-old", None))
    assert db[1].positions.find_one({"_id": "c1:s-old"}) is None
