"""The relay settles each row on its own, parks what can never be sent, and keeps one subject's sequence order.

No stack: an in-memory MongoDB (mongomock) and a producer double that records what was sent."""
from __future__ import annotations

import json
import threading
import time

import mongomock
import pytest
from kafka import errors as kafka_errors

from kit import kafka_io, outbox, relay
from kit.contracts import default_registry
from kit.outbox import Outbox
from kit.settings import load

EXAMPLE = default_registry().contract("grants.application.submitted").folder / "examples" / "v1-example.json"


class Future:
    def __init__(self, exception=None, done=True):
        self.is_done, self.exception = done, exception

    def failed(self):
        return self.is_done and self.exception is not None


class Producer:
    """Records sends; ``refuse_at_send`` / ``fail`` map an event id to an exception raised at send / in its future."""

    def __init__(self, refuse_at_send=None, fail=None):
        self.refuse_at_send, self.fail = refuse_at_send or {}, fail or {}
        self.sent, self.closed = [], False

    def send(self, topic, key=None, value=None, headers=None):
        event_id = dict(headers)["ce_id"].decode()
        if event_id in self.refuse_at_send:
            raise self.refuse_at_send[event_id]
        self.sent.append((topic, key.decode(), dict(headers), json.loads(value)))
        return Future(self.fail.get(event_id))

    def flush(self, timeout=None):
        pass

    def close(self, timeout=None):
        self.closed = True


def sent_ids(producer):
    return [h["ce_id"].decode() for _, _, h, _ in producer.sent]


def _bulk_write(self, requests, ordered=True, **_):
    # mongomock's bulk_write does not accept what PyMongo 4.15's UpdateOne passes it; the relay only sends these
    for op in requests:
        self.update_one(op._filter, op._doc, upsert=op._upsert)


@pytest.fixture
def db(monkeypatch):
    monkeypatch.setattr(mongomock.collection.Collection, "bulk_write", _bulk_write)
    return mongomock.MongoClient(tz_aware=True)["actionplan_grants"]


@pytest.fixture
def settings():
    return load("grants", {"RELAY_LEASE_SECONDS": "10", "RELAY_BATCH_SIZE": "500"})


def stage(db, settings, subjects):
    box = Outbox(db, settings)
    data = json.loads(EXAMPLE.read_text())
    return [box.add(None, "grants.application.submitted", subject, data) for subject in subjects]


def make_relay(db, settings, *producers):
    made = list(producers)
    calls = []

    def factory():
        calls.append(1)
        return made.pop(0)
    r = relay.Relay(settings, db, factory)
    r.factory_calls = calls
    return r


def statuses(db):
    return {d["_id"]: d["status"] for d in db[outbox.COLLECTION].find()}


def test_staging_numbers_each_subjects_events_and_puts_the_number_in_the_envelope(db, settings):
    envelopes = stage(db, settings, ["app-a", "app-b", "app-a", "app-a"])
    assert [e["sequence"] for e in envelopes] == [1, 1, 2, 3]
    more = Outbox(db, settings).add_many(None, [("grants.application.submitted", s, envelopes[0]["data"])
                                               for s in ("app-b", "app-a", "app-b")])
    assert [e["sequence"] for e in more] == [2, 4, 3]
    rows = {d["_id"]: d for d in db[outbox.COLLECTION].find()}
    assert all(rows[e["id"]]["sequence"] == e["sequence"] for e in envelopes + more)
    for envelope in envelopes + more:
        default_registry().validate(envelope)
    assert db[outbox.SEQUENCES].find_one({"_id": "app-a"})["assigned"] == 4


def test_an_envelope_without_a_sequence_still_validates_and_a_bad_one_does_not(db, settings):
    envelope = dict(stage(db, settings, ["app-a"])[0])
    del envelope["sequence"]
    default_registry().validate(envelope)
    for bad in (0, -1, "1", 1.5):
        with pytest.raises(relay.ContractError, match="sequence"):
            default_registry().validate(dict(envelope, sequence=bad))


def test_a_poison_row_is_parked_and_the_rows_around_it_are_sent_once(db, settings, caplog):
    envelopes = stage(db, settings, ["a", "b", "c", "d"])
    poison = envelopes[1]["id"]
    too_large = kafka_errors.MessageSizeTooLargeError("The message is 2000089 bytes when serialized")
    producer = Producer(refuse_at_send={poison: too_large})
    r = make_relay(db, settings, producer)
    assert r.run_once() == 4
    assert sent_ids(producer) == [envelopes[i]["id"] for i in (0, 2, 3)]
    assert statuses(db) == {e["id"]: ("parked" if e["id"] == poison else "sent") for e in envelopes}
    row = db[outbox.COLLECTION].find_one({"_id": poison})
    assert row["parkedReason"].startswith("MessageSizeTooLargeError: ") and row["parkedAt"]
    assert any(rec.levelname == "ERROR" and poison in rec.getMessage() for rec in caplog.records)
    assert r.run_once() == 0 and len(producer.sent) == 3  # nothing is sent twice

    assert [p["_id"] for p in relay.parked_rows(db)] == [poison]
    assert "envelope" not in relay.parked_rows(db)[0]
    assert relay.requeue(db, poison) and not relay.requeue(db, poison)
    producer.refuse_at_send.clear()
    assert r.run_once() == 1 and sent_ids(producer)[-1] == poison and statuses(db)[poison] == "sent"


def test_refusals_in_the_future_park_and_passing_failures_leave_the_subject_pending(db, settings):
    a1, b1, a2, c1, b2 = stage(db, settings, ["a", "b", "a", "c", "b"])
    first = Producer(fail={b1["id"]: kafka_errors.KafkaTimeoutError("Batch expired"),
                           c1["id"]: kafka_errors.InvalidTopicError("refused")})
    second = Producer()
    r = make_relay(db, settings, first, second)
    with pytest.raises(relay.BrokerUnavailable, match="KafkaTimeoutError"):
        r.run_once()
    got = statuses(db)
    assert got[a1["id"]] == got[a2["id"]] == "sent"  # acknowledged rows are marked whatever failed after them
    assert got[c1["id"]] == "parked"
    assert got[b1["id"]] == got[b2["id"]] == "pending"  # b2 was acknowledged, but it must not overtake b1
    r._drop_producer()
    assert first.closed and r.producer is None
    assert r.run_once() == 2 and sent_ids(second) == [b1["id"], b2["id"]] and len(r.factory_calls) == 2
    assert db[outbox.SEQUENCES].find_one({"_id": "b"})["published"] == 2


def test_a_broker_that_is_not_there_leaves_everything_pending(db, settings):
    envelopes = stage(db, settings, ["a", "b"])
    producer = Producer(refuse_at_send={envelopes[0]["id"]: kafka_errors.KafkaTimeoutError("no metadata")})
    r = make_relay(db, settings, producer)
    with pytest.raises(relay.BrokerUnavailable):
        r.run_once()
    assert set(statuses(db).values()) == {"pending"} and producer.sent == []

    def unreachable():
        raise kafka_errors.KafkaTimeoutError("Unable to bootstrap")
    r = relay.Relay(settings, db, unreachable, lease=r.lease)
    with pytest.raises(relay.BrokerUnavailable, match="cannot connect"):
        r.run_once()


def test_an_envelope_that_no_longer_validates_is_parked_without_its_payload(db, settings):
    envelope = stage(db, settings, ["a"])[0]
    db[outbox.COLLECTION].update_one({"_id": envelope["id"]},
                                     {"$set": {"envelope.data.requestedOre": "secret-ish"}})
    producer = Producer()
    assert make_relay(db, settings, producer).run_once() == 1
    row = db[outbox.COLLECTION].find_one({"_id": envelope["id"]})
    assert row["status"] == "parked" and row["parkedReason"].startswith("ContractError: ")
    assert "requestedOre" in row["parkedReason"] and "secret-ish" not in row["parkedReason"]
    assert producer.sent == []


def test_an_invalid_topic_name_is_parked(db, settings):
    good, bad = stage(db, settings, ["a", "a"])
    db[outbox.COLLECTION].update_one({"_id": bad["id"]}, {"$set": {"topic": "no such topic!"}})
    producer = Producer(refuse_at_send={bad["id"]: ValueError('Topic name "no such topic!" is illegal')})
    assert make_relay(db, settings, producer).run_once() == 2
    assert statuses(db) == {good["id"]: "sent", bad["id"]: "parked"}


def test_sequence_order_wins_over_skewed_wall_clock_order(db, settings):
    envelopes = stage(db, settings, ["agg"] * 5)
    rows = db[outbox.COLLECTION]
    for envelope in envelopes:  # later sequence, earlier clock: an instance whose clock is behind
        rows.update_one({"_id": envelope["id"]}, {"$set": {"order": f"{1000 - envelope['sequence']:020d}-0"}})
    producer = Producer()
    assert make_relay(db, settings, producer).run_once() == 5
    assert [h["ce_sequence"] for _, _, h, _ in producer.sent] == [b"1", b"2", b"3", b"4", b"5"]
    assert [body["sequence"] for _, _, _, body in producer.sent] == [1, 2, 3, 4, 5]


def test_a_row_is_held_until_its_predecessor_is_staged(db, settings):
    first, second, third = stage(db, settings, ["agg"] * 3)
    rows = db[outbox.COLLECTION]
    held = rows.find_one({"_id": first["id"]})
    rows.delete_one({"_id": first["id"]})  # sequence 1 not committed yet
    producer = Producer()
    r = make_relay(db, settings, producer)
    assert r.run_once() == 0 and producer.sent == []
    rows.insert_one(held)
    assert r.run_once() == 3 and sent_ids(producer) == [first["id"], second["id"], third["id"]]


def test_a_lagging_watermark_is_repaired_from_the_rows(db, settings):
    first, second = stage(db, settings, ["agg"] * 2)
    db[outbox.COLLECTION].update_one({"_id": first["id"]}, {"$set": {"status": "sent"}})  # crash before $max
    producer = Producer()
    assert make_relay(db, settings, producer).run_once() == 1 and sent_ids(producer) == [second["id"]]


def test_rows_staged_before_sequences_existed_still_go_out_in_clock_order(db, settings):
    envelopes = stage(db, settings, ["x", "y"])
    db[outbox.COLLECTION].update_many({}, {"$unset": {"sequence": "", "envelope.sequence": ""}})
    producer = Producer()
    assert make_relay(db, settings, producer).run_once() == 2
    assert sent_ids(producer) == [e["id"] for e in envelopes]
    assert all("ce_sequence" not in h for _, _, h, _ in producer.sent)


def test_the_producer_uses_the_delivery_timeout_setting(monkeypatch):
    seen = {}
    monkeypatch.setattr(kafka_io, "KafkaProducer", lambda **options: seen.update(options))
    kafka_io.producer(load("grants", {"KAFKA_DELIVERY_TIMEOUT_MS": "5000"}))
    assert seen["delivery_timeout_ms"] == 5000 and seen["request_timeout_ms"] + seen["linger_ms"] <= 5000
    assert seen["enable_idempotence"] is True and seen["acks"] == "all" and "retries" not in seen
    kafka_io.producer(load("grants", {}))
    assert seen["delivery_timeout_ms"] == 120000 and seen["request_timeout_ms"] == 30000


def test_the_loop_survives_mongodb_errors_and_broker_failures_and_drains(db, settings, monkeypatch):
    from pymongo.errors import AutoReconnect
    envelopes = stage(db, settings, ["a", "b"])
    down = kafka_errors.KafkaTimeoutError("Unable to bootstrap")
    good = Producer()
    attempts = []

    def factory():
        attempts.append(1)
        if len(attempts) == 1:
            raise down
        return good
    r = relay.Relay(settings, db, factory)
    real_find, failures = r.rows.find, [AutoReconnect("primary gone"), AutoReconnect("primary gone")]

    def flaky_find(*args, **kwargs):
        if failures:
            raise failures.pop()
        return real_find(*args, **kwargs)
    monkeypatch.setattr(r.rows, "find", flaky_find)
    monkeypatch.setattr(relay, "BACKOFF_FIRST_S", 0.01)
    def done():  # read past the flaky find the relay sees
        return {d["status"] for d in real_find()} == {"sent"}
    worker = threading.Thread(target=r.run, daemon=True)
    worker.start()
    deadline = time.monotonic() + 10
    while not done() and time.monotonic() < deadline:
        time.sleep(0.02)
    r.stopping.set()
    worker.join(5)
    assert not worker.is_alive() and done()
    assert sent_ids(good) == [e["id"] for e in envelopes] and len(attempts) == 2 and not failures


def test_one_staging_numbers_each_subject_on_from_its_last_number(db, settings):
    box, data = Outbox(db, settings), json.loads(EXAMPLE.read_text())
    box.add_many(None, [("grants.application.submitted", s, data) for s in ["a", "b", "a"]])
    envelopes = box.add_many(None, [("grants.application.submitted", s, data) for s in ["b", "c", "a", "b", "a"]])
    assert [(e["subject"], e["sequence"]) for e in envelopes] == [("b", 2), ("c", 1), ("a", 3), ("b", 3), ("a", 4)]
    assert {d["_id"]: d["assigned"] for d in db[outbox.SEQUENCES].find({})} == {"a": 4, "b": 3, "c": 1}
