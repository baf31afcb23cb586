"""Helpers for tests that publish, read and inspect Kafka directly."""
from __future__ import annotations

import json
import uuid

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from kit import kafka_io
from kit.contracts import default_registry
from kit.envelope import encode, new_event

EXAMPLE = json.loads((default_registry().contract("grants.application.submitted").folder / "examples" /
                      "v1-example.json").read_text())


def submitted(subject: str | None = None, initiative: int = 1) -> dict:
    """A valid grants.application.submitted envelope; ``subject`` (the Kafka key) defaults to the application id."""
    app_id = f"app-{uuid.uuid4().hex}"
    data = {**EXAMPLE, "applicationId": app_id, "initiative": initiative}
    return new_event("grants.application.submitted", "grants", subject or app_id, data)


def produce(settings, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = kafka_io.producer(settings)
    for key, value in records:
        producer.send(settings.topic(topic), key=key, value=value)
    producer.flush()
    producer.close()


def produce_events(settings, topic: str, events: list[dict], key: bytes | None = None) -> None:
    produce(settings, topic, [(key or e["subject"].encode(), encode(e)) for e in events])


def caught_up(settings, group: str, topic: str, quiet_ms: int = 800) -> bool:
    """True when the consumer group has committed past every record of the topic: a reader placed at the group's
    committed offsets finds nothing more within ``quiet_ms``. (The local broker's end offsets count record
    batches, not records, so comparing the committed offsets with them would say "caught up" too early.)"""
    name = settings.topic(topic)
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None, enable_auto_commit=False)
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        partitions = [TopicPartition(name, p) for p in consumer.partitions_for_topic(name) or ()]
        if not partitions:
            return False
        group = settings.topic(group)  # groups carry the topic prefix, as topics do
        committed = admin.list_group_offsets(group).get(group, {})
        consumer.assign(partitions)
        for tp in partitions:
            mark = committed.get(tp)
            consumer.seek(tp, mark.offset if mark is not None and mark.offset >= 0 else 0)
        return not any(consumer.poll(timeout_ms=quiet_ms).values())
    finally:
        consumer.close()
