"""The local Kafka-compatible broker keeps its topics, records and committed offsets across restarts: a clean stop,
a SIGKILL, and a restart of the whole stack (broker and object store) on the same data folder.

Tansu 0.6.0 answers ListOffsets(latest) with the base offset of the newest batch + 1 (wrong whenever that batch
holds more than one record), so "the end" here is the high watermark of the fetch responses, which is right."""
from __future__ import annotations

import time
from collections import defaultdict

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from deploy.local.stack import Stack, free_port, port_open
from kit import kafka_io
from kit.settings import load

pytestmark = pytest.mark.stack
TOPICS = {"persist.orders": 3, "persist.audit": 1}
GROUP = "persist.readers"


def read_to_end(bootstrap: str, topics: dict[str, int], timeout: float = 60) -> dict[TopicPartition, list]:
    """Every record of every partition from offset 0 up to the high watermark, however many there are."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest", max_partition_fetch_bytes=4 << 20)
    partitions = [TopicPartition(t, p) for t, n in topics.items() for p in range(n)]
    got: dict[TopicPartition, list] = {tp: [] for tp in partitions}
    try:
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + timeout
        while True:
            for tp, batch in consumer.poll(timeout_ms=300).items():
                got[tp].extend(batch)
            marks = {tp: consumer.highwater(tp) for tp in partitions}
            if all(m is not None and consumer.position(tp) >= m for tp, m in marks.items()):
                return got
            assert time.monotonic() < deadline, f"not at the high watermarks {marks} after {timeout:g}s"
    finally:
        consumer.close()


def committed(bootstrap: str) -> dict[TopicPartition, int]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        offsets = admin.list_group_offsets(GROUP).get(GROUP, {})
        return {tp: o.offset for tp, o in offsets.items() if o.offset >= 0}
    finally:
        admin.close()


def produce(settings, count: int, start: int, sent: dict[TopicPartition, list]) -> None:
    producer = kafka_io.producer(settings)  # acks=all, idempotent
    futures = []
    for i in range(start, start + count):
        for topic in TOPICS:
            value = f"{topic}:{i}".encode()
            futures.append((value, producer.send(topic, key=f"k{i % 11}".encode(), value=value)))
    producer.flush()
    for value, future in futures:
        meta = future.get(30)
        sent[TopicPartition(meta.topic, meta.partition)].append((meta.offset, value))
    producer.close()


def assert_everything_there(settings, sent, group_offsets) -> None:
    bootstrap = settings.kafka_bootstrap
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        assert set(TOPICS) <= set(admin.list_topics())
        described = {t["name"]: len(t["partitions"]) for t in admin.describe_topics(list(TOPICS))}
        assert described == TOPICS
    finally:
        admin.close()
    got = read_to_end(bootstrap, TOPICS)
    for tp, records in got.items():
        want = sorted(sent[tp])
        assert [(r.offset, r.value) for r in records] == want, f"{tp}: {len(records)} records, {len(want)} sent"
        assert [r.offset for r in records] == list(range(len(records)))
    assert committed(bootstrap) == group_offsets


def test_topics_records_and_committed_offsets_survive_stop_kill_and_a_whole_stack_restart(tmp_path):
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)}
    data_dir, port = tmp_path / "kafka-data", free_port()
    stack = Stack(tmp_path / "work", dict(env))
    try:
        stack.start_kafka(port, data_dir)
        settings = load("persistence-test", {**stack.env, "KAFKA_PARTITIONS": "3"})
        kafka_io.ensure_topics(settings, ["persist.orders"])
        kafka_io.ensure_topics(settings, ["persist.audit"], partitions=1)
        sent: dict[TopicPartition, list] = defaultdict(list)
        produce(settings, 400, 0, sent)
        total = sum(len(v) for v in sent.values())
        assert total == 800

        # a consumer group reads about half and commits where it got to
        consumer = kafka_io.consumer(settings, list(TOPICS), GROUP, max_poll_records=50)
        seen, deadline = 0, time.monotonic() + 60
        while seen < total // 2:
            seen += sum(len(b) for b in consumer.poll(timeout_ms=500).values())
            assert time.monotonic() < deadline, "the group did not get records"
        consumer.commit()
        consumer.close()
        group_offsets = committed(settings.kafka_bootstrap)
        assert 0 < sum(group_offsets.values()) < total
        assert_everything_there(settings, sent, group_offsets)
        store = stack.object_stores[data_dir.resolve()][0]

        stack.stop_kafka()
        assert not port_open("127.0.0.1", port) and store.alive()
        stack.start_kafka(port, data_dir)
        assert_everything_there(settings, sent, group_offsets)
        produce(settings, 50, 400, sent)  # appends after the restored watermarks, never over old batches
        assert_everything_there(settings, sent, group_offsets)

        stack.kill_kafka()
        assert not port_open("127.0.0.1", port) and store.alive()
        stack.start_kafka(port, data_dir)
        assert_everything_there(settings, sent, group_offsets)
        produce(settings, 50, 450, sent)
        assert_everything_there(settings, sent, group_offsets)
    finally:
        stack.stop()

    # the object store too (as when `make run` stops and starts again): everything is read back from disk
    stack = Stack(tmp_path / "work", dict(env))
    try:
        stack.start_kafka(port, data_dir)
        assert_everything_there(settings, sent, group_offsets)
        print(f"\nrecords kept across stop, SIGKILL and a whole-stack restart: "
              f"{sum(len(v) for v in sent.values())}; group offsets {sorted(group_offsets.values())}")
    finally:
        stack.stop()
