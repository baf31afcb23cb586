"""Fault scenarios of the outbox relay, against a broker of this module's own so stopping it harms no other test.

Every scenario stages events through kit.outbox (in transactions, as commands do), runs real relay processes
(``python -m kit.relay grants``) and reads the whole topic back: every staged event id must be on it (lost = 0),
duplicates are counted, and one subject's events must be on it in sequence (commit) order.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict

import pytest

from deploy.local.stack import ROOT, Stack, free_port
from kit import outbox as rows_of
from kit.mongo import connect, in_transaction
from kit.outbox import Outbox
from kit.relay import LEASES
from tests.faults.support import event_ids, header, read_all, report, tally
from tests.support.events import submitted
from tests.support.platform import Platform
from tests.support.waiting import eventually

pytestmark = pytest.mark.stack
TOPIC = "grants.applications"
LEASE_S = 2.0


@pytest.fixture(scope="module")
def broker(infra, tmp_path_factory):
    """A broker of this module's own, with persistent storage, so it can be stopped and started again."""
    workdir = tmp_path_factory.mktemp("relay-broker")
    stack = Stack(workdir, dict(infra.env))
    stack.port = free_port()
    stack.start_kafka(stack.port, workdir / "kafka")
    yield stack
    stack.stop()


@pytest.fixture
def platform(infra, broker):
    made = Platform(infra, f"r{uuid.uuid4().hex[:10]}", None)
    made.env["KAFKA_BOOTSTRAP_SERVERS"] = broker.env["KAFKA_BOOTSTRAP_SERVERS"]
    made.env["RELAY_LEASE_SECONDS"] = str(LEASE_S)
    yield made
    made.stop()
    if broker.kafka is None or not broker.kafka.alive():  # a failed scenario must not leave the broker down
        broker.start_kafka(broker.port, broker.kafka_data_dir)


class Staging:
    """Stages grants.application.submitted events of a few subjects in transactions, in the test process."""

    def __init__(self, platform: Platform) -> None:
        self.settings = platform.settings("grants")
        self.client = connect(self.settings)
        self.db = self.client[self.settings.database]
        self.box = Outbox(self.db, self.settings)
        self.rows = self.db[rows_of.COLLECTION]
        self.staged: list[dict] = []
        self._lock = threading.Lock()

    def stage(self, subject: str | None = None) -> dict:
        event = submitted(subject)
        envelope = in_transaction(self.client,
                                  lambda s: self.box.add(s, event["type"], event["subject"], event["data"]))
        with self._lock:
            self.staged.append(envelope)
        return envelope

    def ids(self) -> list[str]:
        return [e["id"] for e in self.staged]

    def count(self, status: str) -> int:
        return self.rows.count_documents({"status": status})


def topic_records(platform: Platform, settle: float = 1.0) -> list:
    """The whole topic, read on until it has been quiet for ``settle`` seconds (support.read_all)."""
    return read_all(platform.env["KAFKA_BOOTSTRAP_SERVERS"], platform.topic(TOPIC), quiet=settle)


def first_sequences(records) -> dict[str, list[int]]:
    """Per key, the ``ce_sequence`` of each event id's first appearance, in topic order."""
    seen, order = set(), defaultdict(list)
    for record in records:
        event_id = header(record, "ce_id")
        if event_id in seen:
            continue
        seen.add(event_id)
        order[record.key.decode()].append(int(header(record, "ce_sequence")))
    return order


def assert_in_sequence_order(records, staged: list[dict]) -> None:
    expected = defaultdict(list)
    for envelope in staged:
        expected[envelope["subject"]].append(envelope["sequence"])
    got = first_sequences(records)
    for subject, sequences in expected.items():
        assert sorted(sequences) == list(range(1, len(sequences) + 1)), f"{subject}: numbers {sorted(sequences)}"
        assert got[subject] == sorted(sequences), f"{subject} out of order on the topic: {got[subject]}"
    for record in records:  # the header and the envelope agree
        assert int(header(record, "ce_sequence")) == json.loads(record.value)["sequence"]


def figures(scenario: str, staging: Staging, records, expected: list[str] | None = None, **extra):
    """Report the scenario's figures; ``expected`` (default: every staged id) are the ids that must arrive."""
    expected = staging.ids() if expected is None else expected
    received_ids = event_ids(records)
    distinct, duplicates, lost = tally(expected, received_ids)
    report(scenario, sent=len(expected), received=len(received_ids), duplicates=duplicates, lost=lost, **extra)
    return distinct, duplicates, lost


def cli(platform: Platform, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kit.relay", "grants", *args], cwd=ROOT, env=platform.env,
                          capture_output=True, text=True, timeout=60)


def lease_holder(staging: Staging) -> str | None:
    doc = staging.db[LEASES].find_one({"_id": "grants"})
    return doc and doc.get("holder")


# -- scenarios --------------------------------------------------------------------------------------------------
def test_relay_killed_after_the_ack_and_during_an_outage_comes_back_and_loses_nothing(platform, broker, tmp_path):
    staging = Staging(platform)
    for _ in range(5):
        staging.stage()
    marker = tmp_path / "published"
    first = platform.relay("grants", RELAY_FAULT_PAUSE_AFTER_PUBLISH=str(marker))
    eventually(marker.exists, 30, what="the relay publishing and pausing before it marks rows sent")
    first.kill()  # SIGKILL between the broker's acknowledgement and marking the rows sent
    assert staging.count("pending") == 5

    broker.stop_kafka()
    for _ in range(5):
        staging.stage()
    second = platform.relay("grants", RELAY_FAULT_PAUSE_AFTER_PUBLISH=str(marker))  # marker exists: no pause
    time.sleep(LEASE_S + 2)  # takes the dead relay's lease over and fails to reach the broker
    assert second.alive() and staging.count("pending") == 10
    second.kill()  # SIGKILL again, during the outage
    third = platform.relay("grants")  # restarted while the broker is still down
    time.sleep(3)
    assert third.alive(), third.log_path.read_text()[-2000:]
    assert staging.count("pending") == 10

    broker.start_kafka(broker.port, broker.kafka_data_dir)
    eventually(lambda: staging.count("sent") == 10, 60, what="the restarted relay draining after the outage")
    records = topic_records(platform)
    distinct, duplicates, lost = figures("relay SIGKILLed after ack, then during an outage", staging, records)
    assert lost == 0 and distinct == 10
    assert duplicates == 5  # exactly the five acknowledged before the first kill, once more, same ids
    assert Counter(event_ids(records)) == Counter({i: (2 if n < 5 else 1) for n, i in enumerate(staging.ids())})
    assert third.alive()


def test_an_outage_longer_than_the_delivery_timeout_while_commands_stage_keeps_order(platform, broker):
    staging = Staging(platform)
    relay = platform.relay("grants", KAFKA_DELIVERY_TIMEOUT_MS="5000")
    subjects = [f"app-{uuid.uuid4().hex}" for _ in range(4)]
    stop = threading.Event()
    errors: list[BaseException] = []

    def stage_continuously(offset: int) -> None:
        n = offset
        while not stop.is_set():
            try:
                staging.stage(subjects[n % len(subjects)])  # two writers on the same subjects: conflicts too
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return
            n += 1
            time.sleep(0.05)
    writers = [threading.Thread(target=stage_continuously, args=(i,), daemon=True) for i in range(2)]
    for writer in writers:
        writer.start()
    eventually(lambda: staging.count("sent") >= 10, 30, what="rows flowing before the outage")

    outage = 15.0  # three times the producer's delivery timeout
    broker.stop_kafka()
    time.sleep(outage)
    assert relay.alive(), relay.log_path.read_text()[-3000:]
    staged_during = staging.count("pending")
    broker.start_kafka(broker.port, broker.kafka_data_dir)
    time.sleep(2)
    stop.set()
    for writer in writers:
        writer.join(30)
    assert not errors, errors
    eventually(lambda: staging.count("pending") == 0, 60, what="the relay draining after the outage")
    assert relay.alive() and staging.count("parked") == 0

    records = topic_records(platform)
    distinct, duplicates, lost = figures("broker outage 3x the delivery timeout, staging on", staging, records,
                                         pending_at_recovery=staged_during)
    assert lost == 0 and distinct == len(staging.staged) and staged_during > 0
    assert_in_sequence_order(records, staging.staged)
    log = relay.log_path.read_text()
    assert "broker unavailable" in log  # it noticed, backed off and came back by itself


def test_a_poison_row_is_parked_with_its_reason_and_later_rows_flow(platform):
    staging = Staging(platform)
    subject = f"app-{uuid.uuid4().hex}"
    envelopes = [staging.stage(subject) for _ in range(4)] + [staging.stage() for _ in range(3)]
    too_large, bad_topic = envelopes[1]["id"], envelopes[2]["id"]
    # a valid envelope larger than the largest request the producer may send (1 MiB)
    staging.rows.update_one({"_id": too_large}, {"$set": {"envelope.tracestate": "x" * 2_000_000}})
    staging.rows.update_one({"_id": bad_topic}, {"$set": {"topic": "grants applications!"}})
    relay = platform.relay("grants")
    eventually(lambda: staging.count("pending") == 0, 30, what="every row sent or parked")

    parked = {d["_id"]: d for d in staging.rows.find({"status": "parked"})}
    assert set(parked) == {too_large, bad_topic}
    assert parked[too_large]["parkedReason"].startswith("MessageSizeTooLargeError: ")
    assert parked[bad_topic]["parkedReason"].startswith("ValueError: Topic name")
    assert all(d["parkedAt"] for d in parked.values())
    records = topic_records(platform)
    delivered = [e["id"] for e in envelopes if e["id"] not in parked]
    distinct, duplicates, lost = figures("poison rows parked", staging, records, expected=delivered,
                                         parked=len(parked))
    assert sorted(event_ids(records)) == sorted(delivered) and duplicates == 0 and lost == 0
    assert first_sequences(records)[subject] == [1, 4]  # the rows after the poison ones flowed, in order

    listing = cli(platform, "--parked")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.strip().splitlines()
    assert lines[0].split("\t") == ["id", "type", "key", "reason", "parkedAt"]
    listed = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert set(listed) == {too_large, bad_topic}
    assert listed[too_large][1:3] == ["grants.application.submitted", subject]
    assert listed[too_large][3].startswith("MessageSizeTooLargeError") and "xxxx" not in listing.stdout
    log = relay.log_path.read_text()
    assert any(json.loads(line)["level"] == "ERROR" and too_large in line
               for line in log.splitlines() if line.startswith("{"))

    relay.stop()
    staging.rows.update_one({"_id": bad_topic}, {"$set": {"topic": platform.topic(TOPIC)}})  # the operator's fix
    requeued = cli(platform, "--requeue", bad_topic)
    assert requeued.returncode == 0 and staging.rows.find_one({"_id": bad_topic})["status"] == "pending"
    assert cli(platform, "--requeue", "no-such-row").returncode == 1
    platform.relay("grants")
    eventually(lambda: staging.rows.find_one({"_id": bad_topic})["status"] == "sent", 30, what="requeued row sent")


def test_two_relays_publish_once_and_the_stand_by_takes_over_when_the_holder_dies(platform):
    staging = Staging(platform)
    relays = [platform.relay("grants"), platform.relay("grants")]
    for _ in range(20):
        staging.stage()
    eventually(lambda: staging.count("sent") == 20, 30, what="the first 20 published")
    holder = eventually(lambda: lease_holder(staging), 10, what="a lease holder")
    by_pid = {r.popen.pid: r for r in relays}
    active = by_pid[int(holder.split(":")[1])]
    stand_by = next(r for r in relays if r is not active)
    records = topic_records(platform)
    assert Counter(event_ids(records)) == Counter(staging.ids())  # each once: the stand-by published nothing

    active.kill()
    killed_at = time.monotonic()
    for _ in range(20):
        staging.stage()
    eventually(lambda: staging.count("sent") == 40, LEASE_S + 10, 0.1, what="the stand-by draining")
    took = time.monotonic() - killed_at
    assert took <= LEASE_S + 3, f"take-over took {took:.1f}s with a {LEASE_S}s lease"
    assert lease_holder(staging).split(":")[1] == str(stand_by.popen.pid)
    assert "took over the grants lease" in stand_by.log_path.read_text()

    records = topic_records(platform)
    distinct, duplicates, lost = figures("two relays, holder killed", staging, records,
                                         takeover_s=round(took, 1))
    assert lost == 0 and distinct == 40 and duplicates == 0


def test_skewed_clocks_do_not_reorder_one_aggregate(platform):
    staging = Staging(platform)
    subject = f"app-{uuid.uuid4().hex}"
    envelopes = [staging.stage(subject) for _ in range(12)]
    # as if written by instances whose clocks disagree: later sequences carry earlier wall-clock positions
    for envelope in envelopes:
        skewed = (10 ** 19 - envelope["sequence"] * 10 ** 12) if envelope["sequence"] % 3 else envelope["sequence"]
        staging.rows.update_one({"_id": envelope["id"]}, {"$set": {"order": f"{skewed:020d}-{0:012d}"}})
    assert [r["sequence"] for r in staging.rows.find().sort("order", 1)] != list(range(1, 13))
    platform.relay("grants")
    eventually(lambda: staging.count("sent") == 12, 30, what="the aggregate's rows published")
    records = topic_records(platform)
    distinct, duplicates, lost = figures("clock skew on one aggregate", staging, records)
    assert lost == 0 and duplicates == 0
    assert first_sequences(records)[subject] == list(range(1, 13))
    assert [header(r, "ce_id") for r in records] == [e["id"] for e in envelopes]
