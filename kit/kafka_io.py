"""Kafka clients configured the one way the platform uses them."""
from __future__ import annotations

import logging

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from kit.settings import Settings

log = logging.getLogger(__name__)
PARTITIONS = 3


def producer(settings: Settings, **overrides) -> KafkaProducer:
    """Idempotent, acks from every in-sync replica: a retried send is never written twice."""
    options = dict(bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=True,
                   retries=10, max_in_flight_requests_per_connection=5, linger_ms=5,
                   client_id=f"actionplan-{settings.service}")
    options.update(overrides)
    return KafkaProducer(**options)


def consumer(settings: Settings, topics: list[str], group_id: str, **overrides) -> KafkaConsumer:
    # the local broker needs short session and heartbeat intervals, or group joins take tens of seconds
    # max_poll_interval bounds how long a rebalance waits for a member that stopped polling (the default is 5
    # minutes); a poll batch of 200 records is handled well within it
    options = dict(bootstrap_servers=settings.kafka_bootstrap, group_id=group_id, enable_auto_commit=False,
                   auto_offset_reset="earliest", session_timeout_ms=6000, heartbeat_interval_ms=2000,
                   max_poll_interval_ms=60000, max_poll_records=200, client_id=f"actionplan-{settings.service}")
    options.update(overrides)
    return KafkaConsumer(*topics, **options)


def ensure_topics(settings: Settings, names: list[str], partitions: int = PARTITIONS) -> None:
    """Create missing topics; existing ones are left as they are (operators own their configuration)."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id=f"actionplan-{settings.service}")
    try:
        existing = set(admin.list_topics())
        missing = [n for n in dict.fromkeys(names) if n not in existing]
        if missing:
            try:
                admin.create_topics([NewTopic(n, partitions, 1) for n in missing])
            except TopicAlreadyExistsError:
                pass
            log.info("created topics %s", missing)
    finally:
        admin.close()
