"""The Kafka consumer entrypoint's loop against fake Kafka clients: what each kind of failure does to offsets,
attempts and the dead-letter topic. No broker; the handler runs in a green thread as nameko would run it."""
from __future__ import annotations

import sys
import time

import eventlet
import pytest
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CommitFailedError, KafkaConnectionError, KafkaTimeoutError
from kafka.structs import TopicPartition
from pymongo.errors import AutoReconnect, ServerSelectionTimeoutError

from kit import consumer as consumer_module
from kit.consumer import KafkaConsumer
from kit.envelope import encode, new_event
from kit.nameko_kit import SETTINGS_KEY
from kit.settings import load
from tests.support.events import submitted

TOPIC = "t1.grants.applications"
TP0, TP1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)


class FakeFuture:
    def __init__(self, error=None):
        self.error = error

    def get(self, timeout=None):
        if self.error:
            raise self.error


class FakeProducer:
    def __init__(self, broker):
        self.broker = broker

    def send(self, topic, key=None, value=None, headers=None):
        if self.broker.dlq_failures:
            self.broker.dlq_failures -= 1
            return FakeFuture(KafkaTimeoutError("not acknowledged"))
        self.broker.dead.append((key, value, dict(headers)))
        return FakeFuture()

    def flush(self, timeout=None):
        pass  # as kafka-python's: a failed record does not make flush raise

    def close(self, timeout=None):
        pass


class FakeBroker:
    """The partitions' logs and the group's committed offsets, shared by every FakeKafkaConsumer made."""

    def __init__(self, records_by_tp):
        self.logs = records_by_tp
        self.group: dict = {}
        self.commit_history: list = []
        self.dead: list = []
        self.dlq_failures = 0
        self.commit_failures: list = []  # exceptions raised by the next commits, in order
        self.poll_failures: list = []
        self.consumers: list = []


class FakeKafkaConsumer:
    def __init__(self, broker, assigned=(TP0, TP1)):
        self.broker, self.listener = broker, None
        self._assigned = set(assigned)
        self.positions = {tp: broker.group.get(tp, 0) for tp in assigned}
        self._paused: set = set()
        self.polls_while_paused = 0
        self.seeks: list = []
        broker.consumers.append(self)

    def subscribe(self, topics, listener=None):
        assert topics == [TOPIC]
        self.listener = listener
        listener.on_partitions_assigned(sorted(self._assigned))

    def assignment(self):
        return set(self._assigned)

    def pause(self, *tps):
        self._paused |= set(tps)

    def resume(self, *tps):
        self._paused -= set(tps)

    def paused(self):
        return set(self._paused)

    def seek(self, tp, offset):
        assert tp in self._assigned
        self.seeks.append((tp, offset))
        self.positions[tp] = offset

    def poll(self, timeout_ms=0, **_):
        if self.broker.poll_failures:
            raise self.broker.poll_failures.pop(0)
        if self._paused and self._paused >= self._assigned:
            self.polls_while_paused += 1
        batch = {}
        for tp in sorted(self._assigned):
            if tp in self._paused:
                continue
            log = self.broker.logs.get(tp, [])
            records = [r for r in log if r.offset >= self.positions[tp]][:50]
            if records:
                batch[tp] = records
                self.positions[tp] = records[-1].offset + 1
        if not batch:
            eventlet.sleep(min(timeout_ms, 20) / 1000)
        return batch

    def committed(self, tp, timeout_ms=None):
        return self.broker.group.get(tp)

    def commit(self, offsets, timeout_ms=None):
        if self.broker.commit_failures:
            raise self.broker.commit_failures.pop(0)
        for tp, meta in offsets.items():
            self.broker.group[tp] = meta.offset
            self.broker.commit_history.append((tp, meta.offset))

    def close(self, autocommit=False):
        pass

    def rebalance(self, assigned):
        self.listener.on_partitions_revoked(sorted(self._assigned))
        self._assigned = set(assigned)
        for tp in assigned:
            self.positions[tp] = self.broker.group.get(tp, 0)
        self.listener.on_partitions_assigned(sorted(assigned))


class FakeContainer:
    service_name = "evaluation"

    def __init__(self, settings, handler):
        self.config = {SETTINGS_KEY: settings}
        self.handler = handler

    def spawn_worker(self, entrypoint, args, kwargs, context_data=None, handle_result=None):
        def work():
            try:
                result = self.handler(*args)
            except Exception:
                handle_result(None, None, sys.exc_info())
            else:
                handle_result(None, result, None)
        return eventlet.spawn(work)

    def spawn_managed_thread(self, fn, identifier=None):
        return eventlet.spawn(fn)


def record(tp, offset, value: bytes):
    return ConsumerRecord(tp.topic, tp.partition, -1, offset, 0, 0, b"key", value, [], None, 3, len(value), -1)


def event_records(tp, events, start=0):
    return [record(tp, start + i, encode(e)) for i, e in enumerate(events)]


@pytest.fixture
def run(monkeypatch):
    """run(broker, handler, until, **env) -> entrypoint: start the loop, wait until ``until()``, stop it."""
    monkeypatch.setattr(consumer_module, "SUPERVISOR_BACKOFF_S", (0.05, 0.2))
    monkeypatch.setattr(consumer_module.kafka_io, "ensure_topics", lambda *a, **k: None)

    def start(broker, handler, until, timeout=10, factory=None, event_types=("grants.application.submitted",),
              **env):
        settings = load("evaluation", {"KAFKA_TOPIC_PREFIX": "t1", "CONSUMER_BACKOFF_MS": "10", **env})
        monkeypatch.setattr(consumer_module.kafka_io, "consumer",
                            factory or (lambda *a, **k: FakeKafkaConsumer(broker)))
        monkeypatch.setattr(consumer_module.kafka_io, "producer", lambda *a, **k: FakeProducer(broker))
        container = FakeContainer(settings, handler)  # nameko holds its container by a weak reference
        entrypoint = KafkaConsumer(*event_types).bind(container, "on_grants_application")
        entrypoint.fake_container = container
        entrypoint.setup()
        entrypoint.start()
        deadline = time.monotonic() + timeout
        try:
            while not until():
                assert time.monotonic() < deadline, "condition not reached"
                assert not entrypoint._thread.dead, "the consumer loop died"
                eventlet.sleep(0.01)
        finally:
            entrypoint.stop()
        return entrypoint
    return start


def ids_of(handled):
    return [e["id"] for e in handled]


def test_takes_event_types_and_reads_their_topics_from_the_registry(run):
    broker = FakeBroker({})
    entrypoint = run(broker, lambda e: None, lambda: True)
    assert entrypoint.event_types == ("grants.application.submitted",)
    assert entrypoint.topics == [TOPIC] and entrypoint.group_id == "t1.evaluation.on_grants_application"
    with pytest.raises(Exception, match="no contract"):
        container = FakeContainer(load("evaluation", {}), None)
        KafkaConsumer("no.such.type").bind(container, "x").setup()
    with pytest.raises(TypeError):
        KafkaConsumer("grants.applications", 3)


def test_other_types_are_skipped_and_committed_and_non_envelopes_are_poison(run):
    mine = submitted()
    flagged = new_event("ad_triage.ad.flagged", "ad_triage", "ad-1", _flagged_data())
    logs = {TP0: [record(TP0, 0, encode(flagged)), record(TP0, 1, b"{not json"), record(TP0, 2, encode(mine))]}
    broker, handled = FakeBroker(logs), []
    run(broker, handled.append, lambda: broker.group.get(TP0) == 3)
    assert ids_of(handled) == [mine["id"]]
    assert [h["dlq.error.type"] for _, _, h in broker.dead] == [b"ContractError"]


def _flagged_data() -> dict:
    import json
    from kit.contracts import default_registry
    folder = default_registry().contract("ad_triage.ad.flagged").folder
    return json.loads(sorted((folder / "examples").glob("v*.json"))[-1].read_text())


def test_handler_errors_count_as_attempts_then_the_record_is_dead_lettered_and_committed(run):
    poison, fine = submitted(), submitted()
    broker, calls = FakeBroker({TP0: event_records(TP0, [poison, fine])}), []

    def handler(event):
        calls.append(event["id"])
        if event["id"] == poison["id"]:
            raise ValueError("bad")
    run(broker, handler, lambda: broker.group.get(TP0) == 2)
    assert calls == [poison["id"]] * 3 + [fine["id"]]
    assert len(broker.dead) == 1 and broker.dead[0][2]["dlq.attempts"] == b"3"


def test_an_unacknowledged_dead_letter_send_is_never_committed_and_is_retried(run):
    poison, fine = submitted(), submitted()
    broker, calls = FakeBroker({TP0: event_records(TP0, [poison, fine])}), []
    broker.dlq_failures = 3

    def handler(event):
        calls.append(event["id"])
        if event["id"] == poison["id"]:
            raise ValueError("bad")
    entrypoint = run(broker, handler, lambda: broker.group.get(TP0) == 2)
    assert broker.commit_history == [(TP0, 2)]  # nothing was committed while the copy was not acknowledged
    assert len(broker.dead) == 1 and broker.dead[0][2]["dlq.original.offset"] == b"0"
    assert calls.count(poison["id"]) == 3  # the failed sends did not start the attempts again
    assert calls.count(fine["id"]) == 1
    assert (TP0, 0) in broker.consumers[0].seeks and entrypoint.restarts == 0


def test_infrastructure_errors_are_no_attempts_and_never_dead_letter(run):
    events = [submitted() for _ in range(3)]
    broker, handled, failures = FakeBroker({TP0: event_records(TP0, events)}), [], [8]

    def handler(event):
        if event["id"] == events[1]["id"] and failures[0]:
            failures[0] -= 1
            raise (AutoReconnect if failures[0] % 2 else ServerSelectionTimeoutError)("mongo down")
        handled.append(event["id"])
    run(broker, handler, lambda: broker.group.get(TP0) == 3, CONSUMER_MAX_ATTEMPTS="2")
    assert handled == ids_of(events) and broker.dead == []
    fake = broker.consumers[0]
    assert fake.polls_while_paused >= 8 and fake.paused() == set()  # held the group while waiting, then resumed
    assert (TP0, 1) in fake.seeks  # went back to the first unprocessed record
    assert broker.commit_history[0] == (TP0, 1) and broker.commit_history[-1] == (TP0, 3)


def test_infrastructure_backoff_is_capped(run):
    event = submitted()
    broker, starts, failures = FakeBroker({TP0: event_records(TP0, [event])}), [], [12]

    def handler(e):
        starts.append(time.monotonic())
        if failures[0]:
            failures[0] -= 1
            raise KafkaConnectionError("broker gone")
    run(broker, handler, lambda: broker.group.get(TP0) == 1, timeout=20, CONSUMER_RETRY_MAX_BACKOFF_MS="100")
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert len(starts) == 13 and max(gaps) < 0.5 and broker.dead == []


def test_an_outage_between_handler_attempts_does_not_count(run):
    event = submitted()
    broker, outcomes = FakeBroker({TP0: event_records(TP0, [event])}), iter(
        [ValueError("x"), AutoReconnect("down"), AutoReconnect("down"), ValueError("x"), None])

    def handler(e):
        outcome = next(outcomes)
        if outcome:
            raise outcome
    run(broker, handler, lambda: broker.group.get(TP0) == 1, CONSUMER_MAX_ATTEMPTS="3")
    assert broker.dead == []  # two handler failures of three allowed, then success


def test_commit_errors_are_retried_and_do_not_kill_the_loop(run):
    events = [submitted() for _ in range(2)]
    broker, handled = FakeBroker({TP0: event_records(TP0, events)}), []
    broker.commit_failures = [KafkaTimeoutError("commit timed out"), KafkaConnectionError("gone"),
                              RuntimeError("anything")]
    entrypoint = run(broker, lambda e: handled.append(e["id"]), lambda: broker.group.get(TP0) == 2)
    assert handled == ids_of(events) and entrypoint.restarts == 0


def test_a_commit_lost_to_a_rebalance_is_dropped_not_retried(run):
    broker, handled = FakeBroker({TP0: event_records(TP0, [submitted()])}), []
    broker.commit_failures = [CommitFailedError()]
    fakes = []

    def factory(*a, **k):
        fakes.append(FakeKafkaConsumer(broker))
        return fakes[-1]
    entrypoint = run(broker, lambda e: handled.append(e["id"]), lambda: len(handled) == 1 and not broker.commit_failures,
                     factory=factory)
    assert entrypoint._pending == {} and len(handled) == 1


def test_the_loop_is_supervised_and_restarted_with_fresh_clients(run):
    events = [submitted() for _ in range(2)]
    broker, handled = FakeBroker({TP0: event_records(TP0, events)}), []
    broker.poll_failures = [RuntimeError("unexpected"), KafkaConnectionError("no brokers")]
    made = []

    def factory(*a, **k):
        if len(made) == 1:
            made.append(None)
            raise KafkaConnectionError("NoBrokersAvailable")  # the broker is down when the loop starts again
        made.append(FakeKafkaConsumer(broker))
        return made[-1]
    entrypoint = run(broker, lambda e: handled.append(e["id"]), lambda: broker.group.get(TP0) == 2, factory=factory)
    assert entrypoint.restarts == 3 and len([m for m in made if m]) == 3 and handled == ids_of(events)


def test_offsets_only_move_forward_after_a_rebalance(run):
    events = [submitted() for _ in range(6)]
    broker, handled = FakeBroker({TP0: event_records(TP0, events)}), []
    fake = []

    def factory(*a, **k):
        fake.append(FakeKafkaConsumer(broker, assigned=(TP0,)))
        return fake[-1]

    def handler(event):
        handled.append(event["id"])
        if event["id"] == events[1]["id"]:
            # while the handler runs another member took the partition, handled up to offset 5 and committed it;
            # then it is ours again
            broker.group[TP0] = 5
            fake[0].rebalance([TP0])
    run(broker, handler, lambda: broker.group.get(TP0) == 6, factory=factory)
    offsets = [o for _, o in broker.commit_history]
    assert offsets == sorted(offsets) and all(o > 5 for o in offsets)
    assert handled[:2] == ids_of(events[:2]) and handled[2:] == ids_of(events[5:])  # the stale batch was dropped


def test_a_slow_handler_keeps_polling_with_its_partitions_paused(run, monkeypatch):
    monkeypatch.setattr(consumer_module, "HANDLER_KEEPALIVE_S", 0.05)
    broker, handled = FakeBroker({TP0: event_records(TP0, [submitted()])}), []

    def handler(event):
        eventlet.sleep(0.5)
        handled.append(event["id"])
    run(broker, handler, lambda: broker.group.get(TP0) == 1)
    assert broker.consumers[0].polls_while_paused >= 5 and broker.consumers[0].paused() == set()


def test_stop_during_an_outage_returns_promptly(run):
    broker = FakeBroker({TP0: event_records(TP0, [submitted()])})

    def handler(event):
        raise AutoReconnect("down")
    started = time.monotonic()
    run(broker, handler, lambda: time.monotonic() - started > 0.5)
    assert time.monotonic() - started < 5 and broker.dead == [] and TP0 not in broker.group
