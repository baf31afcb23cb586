"""Fault scenarios of the Kafka consumer entrypoint (kit.consumer) with the evaluation service on the real stack:
its database away for a minute, a kill between the effect and the offset commit, rebalances with killed and frozen
members, and a replay into a new consumer group.

Each asserts its invariant strictly and reports its figures (tests.faults.support.report).

This module is also a service module for kit.runner: SERVICE is the evaluation service under another name, so it
consumes the same topics in a consumer group (and a database) of its own, for the replay scenario.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
from collections import defaultdict

import pytest
from kafka import KafkaAdminClient, TopicPartition
from pymongo import MongoClient

from deploy.local.stack import Stack, free_port
from services.evaluation.service import EvaluationService
from tests.faults.support import read_all, report
from kit import kafka_io
from kit.envelope import encode
from tests.support.events import caught_up, submitted
from tests.support.waiting import eventually

pytestmark = pytest.mark.stack
GROUP = "evaluation.on_grants_application"
TOPIC = "grants.applications"
METRIC = "applications_submitted"


class ReplayEvaluationService(EvaluationService):
    """The evaluation service under another name: another consumer group, another database, same code."""
    name = "evaluation_replay"


SERVICE = ReplayEvaluationService


# -- helpers -----------------------------------------------------------------------------------------------------------
def database(platform, service: str = "evaluation"):
    return MongoClient(platform.env["MONGO_URI"], serverSelectionTimeoutMS=5000)[platform.settings(service).database]


def counted(db) -> int:
    return sum(row["count"] for row in db.activity_counters.find({"metric": METRIC}))


def dead_letters(platform, service: str = "evaluation") -> list:
    return read_everything(platform.env["KAFKA_BOOTSTRAP_SERVERS"], platform.topic(f"deadletter.{service}"),
                           quiet_s=1.0, timeout=30)


def read_everything(bootstrap: str, topic: str, quiet_s: float = 2.0, timeout: float = 60) -> list:
    """Every record of ``topic`` from offset 0, read on until the topic is quiet (support.read_all)."""
    return read_all(bootstrap, topic, timeout=timeout, quiet=quiet_s)


def sent_ids(platform) -> list[str]:
    """The event id of every record on the topic (test producers send no ce_id header: read the envelope)."""
    records = read_everything(platform.env["KAFKA_BOOTSTRAP_SERVERS"], platform.topic(TOPIC))
    return [json.loads(r.value)["id"] for r in records]


class Sender:
    """One idempotent producer for a whole scenario. (With the local broker, a second producer made in the same
    process has records dropped as duplicates, so scenarios must not make one per send.)"""

    def __init__(self, settings) -> None:
        self.settings, self.producer, self.lock = settings, kafka_io.producer(settings), threading.Lock()

    def send(self, events: list[dict], key: bytes | None = None) -> None:
        with self.lock:
            futures = [self.producer.send(self.settings.topic(TOPIC), key=key or e["subject"].encode(),
                                          value=encode(e)) for e in events]
            self.producer.flush()
            for future in futures:
                future.get(timeout=30)

    def close(self) -> None:
        self.producer.close()


def redeliveries(*procs) -> int:
    """Deliveries the inbox recognised ("already counted" in the services' logs): duplicates suppressed."""
    paths = {p.log_path for p in procs}
    return sum(path.read_text(errors="replace").count("already counted") for path in paths if path.exists())


def assert_exactly_once(db, ids: list[str]) -> None:
    inbox = [row["_id"].split(":", 1)[1] for row in db.inbox.find({}, {"_id": 1})]
    assert sorted(inbox) == sorted(set(ids)), "inbox rows differ from the distinct events sent"
    assert counted(db) == len(set(ids)), "counter differs from the number of distinct events"


def caught_up_group(platform, group: str = GROUP) -> bool:
    return caught_up(platform.settings("evaluation"), group, TOPIC)


class OffsetSampler(threading.Thread):
    """Samples the group's committed offsets; ``regressions`` lists every partition whose offset moved back."""

    def __init__(self, platform, group: str, interval: float = 0.3) -> None:
        super().__init__(daemon=True)
        self.group = platform.settings("evaluation").topic(group)
        self.bootstrap = platform.env["KAFKA_BOOTSTRAP_SERVERS"]
        self.interval = interval
        self.samples: dict[TopicPartition, list[int]] = defaultdict(list)
        self.regressions: list[tuple] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        try:
            while not self.stopping.wait(self.interval):
                try:
                    offsets = admin.list_group_offsets(self.group).get(self.group, {})
                except Exception:
                    continue
                for tp, meta in offsets.items():
                    seen = self.samples[tp]
                    if seen and meta.offset < seen[-1]:
                        self.regressions.append((tp.partition, seen[-1], meta.offset))
                    seen.append(meta.offset)
        finally:
            admin.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(10)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.samples.values())


def produce_stream(sender: Sender, events: list[dict], per_second: float):
    """Produce ``events`` at about ``per_second`` in a thread; returns it (join it)."""
    def run():
        for i in range(0, len(events), 5):
            sender.send(events[i:i + 5])
            time.sleep(5 / per_second)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


# -- scenarios ---------------------------------------------------------------------------------------------------------
def test_mongodb_unavailable_for_a_minute_under_load(make_platform, tmp_path):
    """The evaluation's MongoDB server stops for ~60 s while events stream in: nothing is dead-lettered, every
    event is counted once, the service stays up."""
    mongo_stack = Stack(tmp_path / "own-mongo", {"PATH": os.environ["PATH"]})
    port, data_dir = free_port(), tmp_path / "own-mongo" / "data"
    mongo = mongo_stack.start_mongo(port, data_dir)
    try:
        platform = make_platform()
        platform.env["MONGO_URI"] = mongo_stack.env["MONGO_URI"]  # the service's own server, not the session's
        service = platform.service("evaluation", CONSUMER_RETRY_MAX_BACKOFF_MS="2000")
        settings = platform.settings("evaluation")
        db = database(platform)
        events = [submitted() for _ in range(300)]
        sender = Sender(settings)
        producer = produce_stream(sender, events, per_second=4)  # about 75 s of load
        eventually(lambda: counted(db) >= 20, 30, what="counting under way before the outage")

        mongo.stop()
        down_at = time.monotonic()
        time.sleep(60)
        assert service.alive(), "the service died while its database was down"
        mongo = mongo_stack.start_mongo(port, data_dir)
        outage = time.monotonic() - down_at
        counted_while_down = counted(db)

        producer.join(60)
        sender.close()
        eventually(lambda: counted(db) >= len(events), 120, what="every event counted after the outage")
        eventually(lambda: caught_up_group(platform), 30, what="offsets committed after the outage")
        ids = sent_ids(platform)
        assert sorted(set(ids)) == sorted(e["id"] for e in events)
        assert_exactly_once(db, ids)
        dead = dead_letters(platform)
        assert dead == [], f"{len(dead)} events dead-lettered for an outage"
        assert service.alive()
        log_text = service.log_path.read_text(errors="replace")
        report("consumer: MongoDB down ~60 s under load", sent=len(events), received=counted(db),
               duplicates=redeliveries(service), lost=len(events) - counted(db), outage_s=round(outage, 1),
               counted_when_back=counted_while_down, dead_lettered=len(dead),
               infrastructure_waits=log_text.count("infrastructure unavailable"),
               consumer_restarts=log_text.count("died; starting it again"), service_alive=service.alive())
    finally:
        mongo_stack.stop()


def test_killed_after_the_effect_and_before_the_offset_commit_has_exactly_one_effect(make_platform, tmp_path):
    platform = make_platform()
    marker = tmp_path / "before-commit"
    service = platform.service("evaluation", CONSUMER_FAULT_PAUSE_BEFORE_COMMIT_MARKER=str(marker))
    settings = platform.settings("evaluation")
    db = database(platform)
    events = [submitted() for _ in range(5)]
    sender = Sender(settings)
    sender.send(events, key=b"one-partition")
    sender.close()
    def paused() -> bool:
        assert service.alive(), f"the service exited: {service.log_path.read_text(errors='replace')[-2000:]}"
        return marker.exists()
    # a new group's first join can take tens of seconds on a loaded 2-core machine (seen once in CI at 30 s)
    eventually(paused, 90, what="the consumer pausing between its MongoDB commit and its offset commit")
    stored_before_kill = counted(db)
    assert stored_before_kill >= 1 and not caught_up_group(platform)
    os.kill(service.popen.pid, signal.SIGKILL)
    service.popen.wait(10)

    restarted = platform.service("evaluation", CONSUMER_FAULT_PAUSE_BEFORE_COMMIT_MARKER=str(marker))  # no pause now
    eventually(lambda: counted(db) == len(events) and caught_up_group(platform), 30,
               what="the events delivered again after the restart, offsets committed")
    time.sleep(1)
    ids = sent_ids(platform)
    assert_exactly_once(db, ids)
    assert dead_letters(platform) == []
    duplicates = redeliveries(restarted)
    assert duplicates == stored_before_kill  # every effect stored before the kill came again and was recognised
    report("consumer: SIGKILL after the MongoDB commit, before the offset commit", sent=len(events),
           received=counted(db), duplicates=duplicates, lost=len(events) - counted(db),
           effects_before_kill=stored_before_kill)


def test_rebalances_with_killed_and_frozen_members_keep_one_effect_per_event(make_platform):
    """A second member joins, one is SIGKILLed, one is SIGSTOPped for longer than the poll interval and then
    continued: one effect per event, committed offsets never move back, no surviving process dies."""
    platform = make_platform()
    tuning = dict(CONSUMER_MAX_POLL_INTERVAL_MS="8000")
    first = platform.service("evaluation", **tuning)
    settings = platform.settings("evaluation")
    db = database(platform)
    sampler = OffsetSampler(platform, GROUP)
    sampler.start()
    events: list[dict] = []
    sender = Sender(settings)

    def send(n: int) -> None:
        batch = [submitted() for _ in range(n)]
        events.extend(batch)
        sender.send(batch)

    try:
        send(40)
        eventually(lambda: counted(db) >= 10, 30, what="the first member consuming")
        second = platform.service("evaluation", **tuning)  # joins: the group rebalances
        send(40)
        eventually(lambda: counted(db) == len(events), 60, what="both members consuming")

        send(40)
        first.kill()  # SIGKILL, possibly mid-batch
        third = platform.service("evaluation", **tuning)
        eventually(lambda: counted(db) == len(events), 60, what="the survivors taking over the killed member's work")

        os.kill(second.popen.pid, signal.SIGSTOP)  # frozen: no heartbeat, no poll
        stopped_at = time.monotonic()
        send(40)
        time.sleep(max(0.0, 10 - (time.monotonic() - stopped_at)))  # longer than the 8 s poll interval
        os.kill(second.popen.pid, signal.SIGCONT)
        send(40)
        eventually(lambda: counted(db) == len(events) and caught_up_group(platform), 90,
                   what="everything counted and committed after the frozen member came back")
        time.sleep(2)  # a late commit by the member that was frozen would show now
    finally:
        sampler.stop()
        sender.close()
    assert second.alive() and third.alive(), "a consumer process died"
    ids = sent_ids(platform)
    assert sorted(set(ids)) == sorted(e["id"] for e in events)
    assert_exactly_once(db, ids)
    assert sampler.count > 10 and sampler.regressions == [], f"committed offsets moved back: {sampler.regressions}"
    assert dead_letters(platform) == []
    logs = "".join(path.read_text(errors="replace") for path in {first.log_path, second.log_path, third.log_path})
    report("consumer: rebalances (join, SIGKILL, SIGSTOP > poll interval)", sent=len(events), received=counted(db),
           duplicates=redeliveries(first, second, third), lost=len(events) - counted(db),
           offset_samples=sampler.count, offset_regressions=len(sampler.regressions),
           commits_lost_to_rebalance=logs.count("failed after a rebalance"))


def test_replay_from_offset_zero_into_a_new_group_reaches_the_same_state(make_platform):
    platform = make_platform()
    platform.service("evaluation")
    settings = platform.settings("evaluation")
    events = [submitted(initiative=1 + i % 4) for i in range(60)]
    sender = Sender(settings)
    sender.send(events)
    sender.send(events[:15])  # redeliveries, as a relay restart makes them
    sender.close()
    eventually(lambda: caught_up_group(platform), 60, what="the live consumer caught up")
    live_db = database(platform)
    assert_exactly_once(live_db, [e["id"] for e in events])

    replay = platform.service("evaluation_replay", module=__name__)
    replay_group = "evaluation_replay.on_grants_application"
    eventually(lambda: caught_up_group(platform, replay_group), 60, what="the replay consumer reading from offset 0")
    replay_db = database(platform, "evaluation_replay")
    live_hash, replay_hash = state_hash(live_db), state_hash(replay_db)
    assert live_hash == replay_hash
    ids = sent_ids(platform)
    assert len(ids) == 75 and dead_letters(platform, "evaluation_replay") == []
    report("consumer: replay from offset 0 into a new group", sent=len(ids), received=counted(replay_db),
           duplicates=redeliveries(replay), lost=len(events) - counted(replay_db),
           state_hash_equal=live_hash == replay_hash, state_hash=live_hash[:12])


def state_hash(db) -> str:
    """The consumer's state, without the times it was written: counters, handled event ids, sequence positions."""
    state = {
        "counters": sorted((r["_id"], r["metric"], r["initiative"], r["count"]) for r in db.activity_counters.find()),
        "inbox": sorted(r["_id"] for r in db.inbox.find({}, {"_id": 1})),
        "positions": sorted((r["_id"], r.get("last"), r.get("gaps"), r.get("reorders"))
                            for r in db.positions.find()),
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()

