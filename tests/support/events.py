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


def caught_up(settings, group: str, topic: str) -> bool:
    """True when the consumer group has committed the end offset of every partition of the topic."""
    name = settings.topic(topic)
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        partitions = [TopicPartition(name, p) for p in consumer.partitions_for_topic(name) or ()]
        ends = consumer.end_offsets(partitions)
        group = settings.topic(group)  # groups carry the topic prefix, as topics do
        committed = admin.list_group_offsets(group).get(group, {})
        return bool(partitions) and all(
            ends[tp] == 0 or (committed.get(tp) is not None and committed[tp].offset >= ends[tp])
            for tp in partitions)
    finally:
        consumer.close()
        admin.close()
