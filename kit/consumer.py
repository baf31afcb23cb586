"""The nameko Kafka consumer entrypoint: commit an offset only after the handler's effect is stored.

Kept at the edge so domain code never sees nameko or Kafka.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import eventlet
from eventlet.event import Event
from kafka.errors import CommitFailedError
from kafka.structs import OffsetAndMetadata
from nameko.extensions import Entrypoint

from kit import kafka_io, tracing
from kit.contracts import ContractError
from kit.envelope import decode

log = logging.getLogger("actionplan.consumer")
STOP_GRACE_S = 15


def settings_of(container):
    from kit.nameko_kit import SETTINGS_KEY
    return container.config[SETTINGS_KEY]


class KafkaConsumer(Entrypoint):
    """Consume Kafka topics; commit an offset only after the handler returned (its effect is stored).

    A failing handler is retried with exponential backoff; after the last attempt, or at once for a message that
    breaks its contract, the original record goes to the dead-letter topic with where it came from and why in
    headers, and consumption goes on with the next record.
    """

    is_kafka_consumer = True  # the Tracing dependency makes consumer spans for these

    def __init__(self, *topics: str, **kwargs) -> None:
        self.topic_names = topics
        super().__init__(**kwargs)

    def setup(self) -> None:
        self.settings = settings_of(self.container)
        # the topic prefix isolates environments sharing a broker: their groups must not meet either
        self.group_id = self.settings.topic(f"{self.container.service_name}.{self.method_name}")
        self.dead_letter_topic = self.settings.topic(f"deadletter.{self.container.service_name}")
        self.topics = [self.settings.topic(t) for t in self.topic_names]
        self._stopping = False
        self._thread = None

    def start(self) -> None:
        kafka_io.ensure_topics(self.settings, self.topics + [self.dead_letter_topic])
        self._thread = self.container.spawn_managed_thread(self._run, identifier=f"kafka:{self.group_id}")

    def stop(self) -> None:
        self._stopping = True
        if self._thread is not None:
            # the loop ends after the record in hand; a consumer stuck joining its group must not block shutdown
            with eventlet.Timeout(STOP_GRACE_S, False):
                self._thread.wait()
            if not self._thread.dead:
                log.warning("consumer %s did not stop within %ds; killing it", self.group_id, STOP_GRACE_S)
                self._thread.kill()

    def kill(self) -> None:
        self._stopping = True
        if self._thread is not None:
            self._thread.kill()

    def _run(self) -> None:
        consumer = kafka_io.consumer(self.settings, self.topics, self.group_id)
        self._producer = kafka_io.producer(self.settings)
        try:
            while not self._stopping:
                for partition, records in consumer.poll(timeout_ms=300).items():
                    handled = None
                    for record in records:
                        if self._stopping:
                            break
                        self._process(record)
                        handled = record.offset + 1
                    # one commit per partition batch, after every effect in it is stored; records handled but not
                    # yet committed when the process dies come again and the inbox recognises them
                    if handled is not None:
                        self._commit(consumer, partition, handled)
        finally:
            consumer.close(autocommit=False)
            self._producer.close()

    def _commit(self, consumer, partition, offset: int) -> None:
        try:
            consumer.commit({partition: OffsetAndMetadata(offset, "", -1)})
        except CommitFailedError:
            # a rebalance took the partition away after the effects were stored: the new owner gets the records
            # again and its inbox recognises them, so nothing is lost or applied twice
            log.warning("commit of %s@%d failed after a rebalance", partition, offset)

    def _process(self, record) -> None:
        try:
            event = decode(record.value)
        except ContractError as exc:
            self._dead_letter(record, exc, attempts=0)
            return
        carrier = tracing.from_kafka_headers(record.headers)
        attempts = self.settings.consumer_max_attempts
        for attempt in range(1, attempts + 1):
            try:
                self._call_handler(event, carrier)
                return
            except Exception as exc:  # the handler's own errors; retried, then dead-lettered
                log.warning("handler %s failed on event %s (attempt %d/%d): %s", self.group_id, event["id"],
                            attempt, attempts, type(exc).__name__)
                if attempt == attempts:
                    self._dead_letter(record, exc, attempts)
                    return
                eventlet.sleep(self.settings.consumer_backoff_ms / 1000 * 2 ** (attempt - 1))

    def _call_handler(self, event: dict, carrier: dict) -> None:
        done = Event()

        def handle_result(worker_ctx, result, exc_info):
            done.send((result, exc_info))
            return result, exc_info

        self.container.spawn_worker(self, (event,), {}, context_data=dict(carrier), handle_result=handle_result)
        _, exc_info = done.wait()
        if exc_info is not None:
            raise exc_info[1]

    def _dead_letter(self, record, exc: Exception, attempts: int) -> None:
        headers = [(k, v) for k, v in (record.headers or ()) if not k.startswith("dlq.")]
        headers += [(k, str(v).encode("utf-8")) for k, v in (
            ("dlq.original.topic", record.topic), ("dlq.original.partition", record.partition),
            ("dlq.original.offset", record.offset), ("dlq.consumer", self.group_id),
            ("dlq.error.type", type(exc).__name__), ("dlq.error", str(exc)[:1000]),
            ("dlq.attempts", attempts), ("dlq.failed.at", datetime.now(timezone.utc).isoformat()),
        )]
        self._producer.send(self.dead_letter_topic, key=record.key, value=record.value, headers=headers)
        self._producer.flush()
        log.error("dead-lettered %s[%d]@%d from %s: %s", record.topic, record.partition, record.offset,
                  self.group_id, type(exc).__name__)


kafka_consumer = KafkaConsumer.decorator
