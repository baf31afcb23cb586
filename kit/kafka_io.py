"""Kafka clients configured the one way the platform uses them."""
from __future__ import annotations

import logging

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from kit.settings import Settings

log = logging.getLogger(__name__)
PARTITIONS = 3  # the default of KAFKA_PARTITIONS; kept for callers that import it


def producer(settings: Settings, **overrides) -> KafkaProducer:
    """Idempotent, acks from every in-sync replica: a retried send is never written twice.

    With KAFKA_IDEMPOTENCE=off (the local broker only, see deploy/README.md) a retry may write a record twice, and
    one request in flight per connection keeps a retried record from overtaking the next.

    Retries are bounded by time, not by count: the producer keeps retrying a record for KAFKA_DELIVERY_TIMEOUT_MS
    (kafka-python's ``delivery_timeout_ms``), then fails its future with KafkaTimeoutError. Its request timeout is
    kept within that, as kafka-python requires delivery_timeout_ms >= linger_ms + request_timeout_ms."""
    linger_ms = 5
    delivery_ms = settings.kafka_delivery_timeout_ms
    idempotent = settings.kafka_idempotence == "on"
    options = dict(bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=idempotent,
                   max_in_flight_requests_per_connection=5 if idempotent else 1, linger_ms=linger_ms,
                   delivery_timeout_ms=delivery_ms,
                   request_timeout_ms=max(1, min(30000, delivery_ms - linger_ms)),
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


def ensure_topics(settings: Settings, names: list[str], partitions: int | None = None) -> None:
    """Create missing topics explicitly: ``KAFKA_PARTITIONS`` partitions (or ``partitions``), replication factor
    ``KAFKA_REPLICATION_FACTOR`` and ``min.insync.replicas`` = ``KAFKA_MIN_INSYNC_REPLICAS``. Existing topics are
    left as they are (operators own their configuration).

    A broker that cannot honour the durability asked for must not pass unnoticed: a real Kafka cluster rejects a
    replication factor above its broker count (the error is raised, start-up fails); a broker that accepts the
    request but keeps fewer replicas (the single-node local broker does) is reported once per process."""
    partitions = partitions or settings.kafka_partitions
    rf, min_isr = settings.kafka_replication_factor, settings.kafka_min_insync_replicas
    if min_isr > rf:
        raise ValueError(f"KAFKA_MIN_INSYNC_REPLICAS={min_isr} is greater than KAFKA_REPLICATION_FACTOR={rf}: "
                         "no write could ever be acknowledged")
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id=f"actionplan-{settings.service}")
    try:
        existing = set(admin.list_topics())
        missing = [n for n in dict.fromkeys(names) if n not in existing]
        if missing:
            try:
                admin.create_topics([NewTopic(n, partitions, rf, topic_configs={"min.insync.replicas": str(min_isr)})
                                     for n in missing])
            except TopicAlreadyExistsError:
                pass
            log.info("created topics %s (partitions %d, replication factor %d, min.insync.replicas %d)",
                     missing, partitions, rf, min_isr)
            _check_durability(admin, missing, rf, min_isr)
    finally:
        admin.close()


_reported: set[tuple[str, int, int]] = set()


def _check_durability(admin: KafkaAdminClient, topics: list[str], rf: int, min_isr: int) -> None:
    """Say once per process when the broker keeps fewer replicas than asked (a single-node broker accepts any
    replication factor and keeps one copy, so ``min.insync.replicas`` > 1 cannot be enforced either)."""
    try:
        described = admin.describe_topics(topics)
        brokers = len(admin.describe_cluster().get("brokers") or ())
    except Exception as exc:  # the check is advice; creating the topics is what matters
        log.warning("could not describe topics %s to check their replication: %s", topics, exc)
        return
    for topic in described:
        # a single-node broker may even list the requested number of replicas: count distinct nodes and brokers
        replicas = min((len(set(p["replica_nodes"])) for p in topic.get("partitions") or ()), default=rf)
        replicas = min(replicas, brokers) if brokers else replicas
        key = (admin.config["bootstrap_servers"] if isinstance(admin.config["bootstrap_servers"], str)
               else ",".join(admin.config["bootstrap_servers"]), rf, min_isr)
        if replicas < rf and key not in _reported:
            _reported.add(key)
            log.warning("the broker at %s accepted replication factor %d and min.insync.replicas %d for %s but keeps "
                        "%d replica(s) per partition: it is a single-node broker (the local stack's Tansu) that "
                        "ignores replication; records survive a broker restart only through its storage. Production "
                        "needs at least %d brokers.", key[0], rf, min_isr, topic["name"], replicas, rf)
