"""Failure tests that prove the delivery mechanisms: crash the relay, crash a consumer, feed poison, send bad input."""
import os
import signal

import pytest
from pymongo import MongoClient

from kit import outbox as outbox_rows
from kit.mongo import connect, in_transaction
from kit.outbox import Outbox
from tests.support.events import caught_up, produce, produce_events, submitted
from tests.support.waiting import eventually

pytestmark = pytest.mark.stack
GROUP = "evaluation.on_grants_application"


def counted(platform, initiative: int = 1) -> int:
    db = MongoClient(platform.env["MONGO_URI"])[platform.settings("evaluation").database]
    row = db.activity_counters.find_one({"_id": f"applications_submitted:{initiative}"})
    return row["count"] if row else 0


def test_relay_killed_after_publishing_loses_nothing_and_duplicates_have_no_second_effect(make_platform, tmp_path):
    platform = make_platform()
    platform.service("evaluation")
    grants = platform.settings("grants")
    client = connect(grants)
    box = Outbox(client[grants.database], grants)
    staged = []
    for event in [submitted() for _ in range(5)]:
        staged.append(in_transaction(client, lambda s, e=event: box.add(s, e["type"], e["subject"], e["data"])))
    rows = client[grants.database][outbox_rows.COLLECTION]

    marker = tmp_path / "published"
    relay = platform.relay("grants", RELAY_FAULT_PAUSE_AFTER_PUBLISH=str(marker))
    eventually(marker.exists, 30, what="the relay publishing and pausing before it marks rows sent")
    relay.kill()  # SIGKILL between the broker's acknowledgement and the update
    assert rows.count_documents({"status": "pending"}) == 5
    assert len(platform.read_topic("grants.applications", expect=5)) == 5

    platform.relay("grants")
    eventually(lambda: rows.count_documents({"status": "sent"}) == 5, 30, what="rows marked sent after restart")
    records = platform.read_topic("grants.applications", expect=10)
    ids = [dict(r.headers)["ce_id"].decode() for r in records]
    assert len(records) == 10 and sorted(set(ids)) == sorted(e["id"] for e in staged)
    assert all(ids.count(i) == 2 for i in set(ids))  # every duplicate carries the same event id

    eventually(lambda: caught_up(grants, GROUP, "grants.applications"), 30, what="the consumer reading all 10")
    assert counted(platform) == 5


def test_consumer_killed_mid_handling_has_exactly_one_effect(make_platform, tmp_path):
    platform = make_platform()
    marker = tmp_path / "in-handler"
    consumer = platform.service("evaluation", CONSUMER_FAULT_PAUSE_MARKER=str(marker))
    settings = platform.settings("evaluation")
    produce_events(settings, "grants.applications", [submitted()])
    eventually(marker.exists, 30, what="the handler pausing inside its transaction")
    os.kill(consumer.popen.pid, signal.SIGKILL)
    consumer.popen.wait(10)
    assert counted(platform) == 0  # the effect was never committed

    platform.service("evaluation", CONSUMER_FAULT_PAUSE_MARKER=str(marker))  # marker exists: no pause now
    eventually(lambda: counted(platform) == 1, 30, what="the event handled again after restart")
    eventually(lambda: caught_up(settings, GROUP, "grants.applications"), 30, what="offset committed")
    db = MongoClient(platform.env["MONGO_URI"])[settings.database]
    assert counted(platform) == 1 and db.inbox.count_documents({}) == 1


def test_poison_goes_to_the_dead_letter_topic_and_later_events_flow(make_platform):
    platform = make_platform()
    platform.service("evaluation")
    settings = platform.settings("evaluation")
    bad_schema = submitted()
    bad_schema["data"]["amountRequestedOre"] = "lots"
    good = submitted()
    # one key: all three on one partition, the poison first
    produce(settings, "grants.applications", [(b"same-key", b"{not json"),
                                              (b"same-key", __import__("kit.envelope").envelope.encode(bad_schema))])
    produce_events(settings, "grants.applications", [good], key=b"same-key")

    eventually(lambda: counted(platform) == 1, 30, what="the good event after the poison")
    dead = platform.read_topic("deadletter.evaluation", expect=2)
    assert len(dead) == 2
    headers = [dict(r.headers) for r in dead]
    assert {h["dlq.original.topic"].decode() for h in headers} == {settings.topic("grants.applications")}
    assert sorted(int(h["dlq.original.offset"]) for h in headers) == [0, 1]
    assert all(h["dlq.original.partition"].decode().isdigit() for h in headers)
    assert "not JSON" in headers[0]["dlq.error"].decode() and headers[0]["dlq.error.type"] == b"ContractError"
    assert dead[0].value == b"{not json"  # the original bytes, for replay after a fix


def test_handler_failures_are_retried_then_dead_lettered(make_platform):
    platform = make_platform()
    platform.service("flaky", module="tests.support.flaky_service")
    settings = platform.settings("flaky")
    poison, flaky, fine = submitted("x-poison"), submitted("x-flaky"), submitted("x-fine")
    produce_events(settings, "grants.applications", [poison, flaky, fine], key=b"one-partition")
    db = MongoClient(platform.env["MONGO_URI"])[settings.database]
    eventually(lambda: db.handled.count_documents({}) == 2, 30, what="the flaky and the fine event handled")
    attempts = {d["_id"]: d["n"] for d in db.attempts.find()}
    assert attempts == {"x-poison": 3, "x-flaky": 3, "x-fine": 1}
    dead = platform.read_topic("deadletter.flaky", expect=1)
    assert len(dead) == 1
    headers = dict(dead[0].headers)
    assert headers["dlq.attempts"] == b"3" and headers["dlq.error.type"] == b"RuntimeError"
    assert dead[0].key == b"one-partition" and b"x-poison" in dead[0].value
