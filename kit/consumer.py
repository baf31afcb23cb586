"""The nameko Kafka consumer entrypoint: commit an offset only after the handler's effect is stored.

Kept at the edge so domain code never sees nameko or Kafka.

What each kind of failure does:

* the handler raises (its own error): retried with backoff, ``CONSUMER_MAX_ATTEMPTS`` attempts in all, then the
  record goes to the dead-letter topic and consumption goes on; a record that breaks its contract goes there at once;
* the infrastructure fails (kit.faults: the database or the broker unreachable, a retryable conflict): the attempt
  does not count and nothing is dead-lettered. The consumer keeps its group membership (its partitions paused, poll
  still called), waits with capped exponential backoff, seeks every partition of the batch back to its first
  unprocessed record and tries again, for as long as the outage lasts;
* the dead-letter send is not acknowledged: the record is not committed; it is retried like an outage;
* an offset commit fails: it is retried on the next turn of the loop; if the process dies first, the records come
  again and the inbox recognises them. Offsets only move forward;
* anything else escapes the loop: it is logged and the loop starts again with fresh Kafka clients, after a backoff.
"""
from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timezone

import eventlet
from eventlet.event import Event
from kafka import ConsumerRebalanceListener
from kafka.errors import CommitFailedError
from kafka.structs import OffsetAndMetadata
from nameko.extensions import Entrypoint

from kit import kafka_io, tracing
from kit.contracts import ContractError, default_registry
from kit.envelope import decode
from kit.faults import is_infrastructure_error

log = logging.getLogger("actionplan.consumer")
STOP_GRACE_S = 15
POLL_MS = 300
COMMIT_TIMEOUT_MS = 10_000
DEAD_LETTER_TIMEOUT_S = 30
HANDLER_KEEPALIVE_S = 1.0  # a handler running longer than this has the loop poll (partitions paused) meanwhile
SUPERVISOR_BACKOFF_S = (1.0, 30.0)  # first and longest wait before the loop starts again after it died
# Fault injection for the failure tests only: pause after the handler's transaction committed and before the offset
# commit, so a test can kill the process there. The marker file makes it happen once.
FAULT_BEFORE_COMMIT_ENV = "CONSUMER_FAULT_PAUSE_BEFORE_COMMIT_MARKER"


def settings_of(container):
    from kit.nameko_kit import SETTINGS_KEY
    return container.config[SETTINGS_KEY]


class _Unavailable(Exception):
    """The infrastructure failed while a record was in hand: wait, seek back and try again; never an attempt."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause


class _Abandon(Exception):
    """The batch in hand is stale (a rebalance or a stop): seek back and poll again."""


class _Listener(ConsumerRebalanceListener):
    """Runs on the Kafka client's IO loop: only records what changed, never blocks."""

    def __init__(self, entrypoint: "KafkaConsumer", consumer) -> None:
        self.entrypoint, self.consumer = entrypoint, consumer

    def on_partitions_revoked(self, revoked):
        self.entrypoint._revoked(revoked)

    def on_partitions_lost(self, lost):
        self.entrypoint._revoked(lost)

    def on_partitions_assigned(self, assigned):
        if self.entrypoint._holding and assigned:
            self.consumer.pause(*assigned)  # new partitions stay still while the loop waits out an outage


class KafkaConsumer(Entrypoint):
    """Consume the given event types from their contracts' topics; commit an offset only after the handler returned
    (its effect is stored).

    ``@kafka_consumer("grants.application.submitted")``: the topics come from the contract registry (with the topic
    prefix); records of other types on those topics are skipped and committed without calling the handler.
    """

    is_kafka_consumer = True  # the Tracing dependency makes consumer spans for these

    def __init__(self, *event_types: str, **kwargs) -> None:
        if not event_types or not all(isinstance(t, str) and t for t in event_types):
            raise TypeError("kafka_consumer takes the event types it handles, e.g. "
                            "@kafka_consumer('grants.application.submitted')")
        self.event_types = tuple(dict.fromkeys(event_types))
        super().__init__(**kwargs)

    def setup(self) -> None:
        self.settings = settings_of(self.container)
        registry = default_registry()
        contract_topics = [registry.contract(t).topic for t in self.event_types]  # an unknown type fails here
        # the topic prefix isolates environments sharing a broker: their groups must not meet either
        self.group_id = self.settings.topic(f"{self.container.service_name}.{self.method_name}")
        self.dead_letter_topic = self.settings.topic(f"deadletter.{self.container.service_name}")
        self.topics = [self.settings.topic(t) for t in dict.fromkeys(contract_topics)]
        self.max_retry_backoff_s = self.settings.consumer_retry_max_backoff_ms / 1000
        self.max_poll_interval_ms = self.settings.consumer_max_poll_interval_ms
        self._fault_marker = os.environ.get(FAULT_BEFORE_COMMIT_ENV)
        self._stopping = False
        self._thread = None
        self._topics_ready = False
        self._attempts: dict[tuple, tuple[int, BaseException]] = {}  # (topic, partition, offset) -> handler failures
        self._reset_session_state()
        self.restarts = 0

    def start(self) -> None:
        try:
            self._ensure_topics()
        except Exception as exc:  # the broker is down: the supervised loop creates them once it is back
            log.warning("consumer %s could not check its topics yet: %s", self.group_id, type(exc).__name__)
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

    # -- supervision -------------------------------------------------------------------------------------------
    def _run(self) -> None:
        """Run the consuming loop until stopped; if it dies, log it and start again with fresh clients."""
        backoff = SUPERVISOR_BACKOFF_S[0]
        while not self._stopping:
            started = time.monotonic()
            try:
                self._consume()
            except Exception:
                if self._stopping:
                    break
                self.restarts += 1
                if time.monotonic() - started > 60:
                    backoff = SUPERVISOR_BACKOFF_S[0]  # it ran fine for a while: not a crash loop
                log.exception("consumer %s died; starting it again in %.1fs (restart %d)", self.group_id, backoff,
                              self.restarts)
                self._sleep(backoff)
                backoff = min(backoff * 2, SUPERVISOR_BACKOFF_S[1])

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopping and time.monotonic() < deadline:
            eventlet.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def _ensure_topics(self) -> None:
        if not self._topics_ready:
            kafka_io.ensure_topics(self.settings, self.topics + [self.dead_letter_topic])
            self._topics_ready = True

    def _reset_session_state(self) -> None:
        self._epoch = 0  # counts revocations: a batch polled before one is stale
        self._holding = False
        self._committed: dict = {}  # partition -> the offset this member last committed in this assignment
        self._pending: dict = {}  # partition -> an offset whose commit failed and is retried
        self._infra_failures = 0

    def _consume(self) -> None:
        self._reset_session_state()
        self._ensure_topics()
        consumer = kafka_io.consumer(self.settings, [], self.group_id, max_poll_interval_ms=self.max_poll_interval_ms)
        producer = None
        try:
            consumer.subscribe(self.topics, listener=_Listener(self, consumer))
            self._producer = producer = kafka_io.producer(self.settings)
            while not self._stopping:
                self._flush_commits(consumer)
                batch = consumer.poll(timeout_ms=POLL_MS)
                if batch:
                    self._handle_batch(consumer, batch)
        finally:
            for client, close in ((consumer, lambda: consumer.close(autocommit=False)),
                                  (producer, lambda: producer.close(timeout=5))):
                if client is not None:
                    try:
                        close()
                    except Exception as exc:
                        log.warning("closing a Kafka client of %s failed: %s", self.group_id, type(exc).__name__)

    def _revoked(self, partitions) -> None:
        self._epoch += 1
        for tp in partitions or ():
            self._committed.pop(tp, None)  # after a rebalance the group's committed position is the floor
            self._pending.pop(tp, None)  # the new owner handles these records again; its inbox recognises them

    # -- one batch -----------------------------------------------------------------------------------------------
    def _handle_batch(self, consumer, batch: dict) -> None:
        epoch = self._epoch
        first_unprocessed = {tp: records[0].offset for tp, records in batch.items()}
        try:
            for tp, records in batch.items():
                for record in records:
                    if self._stopping or self._epoch != epoch:
                        raise _Abandon()
                    self._process(consumer, record)
                    first_unprocessed[tp] = record.offset + 1
                    self._infra_failures = 0
                # one commit per partition batch, after every effect in it is stored; records handled but not
                # yet committed when the process dies come again and the inbox recognises them
                self._commit(consumer, tp, first_unprocessed[tp])
        except _Abandon:
            self._rewind(consumer, batch, first_unprocessed)
        except _Unavailable as exc:
            self._rewind(consumer, batch, first_unprocessed)
            self._infra_failures += 1
            wait = min(self.settings.consumer_backoff_ms / 1000 * 2 ** (self._infra_failures - 1) or 0.05,
                       self.max_retry_backoff_s)
            log.warning("consumer %s: infrastructure unavailable (%s); retrying in %.2fs (failure %d in a row)",
                        self.group_id, type(exc.cause).__name__, wait, self._infra_failures)
            self._hold(consumer, seconds=wait)

    def _rewind(self, consumer, batch: dict, first_unprocessed: dict) -> None:
        """Store what was done, and make the next poll start at the first unprocessed record of each partition."""
        assigned = consumer.assignment()
        for tp, records in batch.items():
            if tp not in assigned:
                continue  # revoked: the new owner starts from the group's committed offset
            if first_unprocessed[tp] > records[0].offset:
                self._commit(consumer, tp, first_unprocessed[tp])
            consumer.seek(tp, max(first_unprocessed[tp], self._group_offset(consumer, tp)))

    def _group_offset(self, consumer, tp) -> int:
        """The group's committed offset of ``tp`` (-1 for none, or when it cannot be read now): another member may
        have handled records past this member's batch while the partition was away."""
        try:
            committed = consumer.committed(tp, timeout_ms=COMMIT_TIMEOUT_MS)
        except Exception as exc:
            log.warning("reading the committed offset of %s failed: %s", tp, type(exc).__name__)
            return -1
        return -1 if committed is None else committed

    def _hold(self, consumer, seconds: float | None = None, until=None) -> None:
        """Wait with every assigned partition paused, still polling so the group keeps this member."""
        deadline = None if seconds is None else time.monotonic() + seconds
        self._holding = True
        try:
            while not self._stopping:
                if until is not None and until():
                    break
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                assigned = consumer.assignment()
                if assigned:
                    consumer.pause(*assigned)
                timeout = 200 if remaining is None else max(1, min(200, int(remaining * 1000)))
                for tp, records in consumer.poll(timeout_ms=timeout).items():
                    consumer.seek(tp, records[0].offset)  # nothing may be skipped: read these again later
        finally:
            self._holding = False
            paused = consumer.paused()
            if paused:
                consumer.resume(*paused)

    # -- one record ----------------------------------------------------------------------------------------------
    def _process(self, consumer, record) -> None:
        key = (record.topic, record.partition, record.offset)
        try:
            event = decode(record.value)
        except ContractError as exc:
            self._dead_letter(record, exc, attempts=0)
            return
        if event["type"] not in self.event_types:
            return  # another type on the same topic: not ours; its offset is committed with the batch
        carrier = tracing.from_kafka_headers(record.headers)
        attempts = self.settings.consumer_max_attempts
        while True:
            failed, last_error = self._attempts.get(key, (0, None))
            if failed >= attempts:
                self._dead_letter(record, last_error, failed)  # raises _Unavailable when not acknowledged
                self._attempts.pop(key, None)
                return
            try:
                self._call_handler(consumer, event, carrier)
                self._attempts.pop(key, None)
                return
            except Exception as exc:
                if is_infrastructure_error(exc):
                    raise _Unavailable(exc) from exc  # not an attempt: wait for the infrastructure
                failed += 1
                self._remember_attempt(key, failed, exc)
                log.warning("handler %s failed on event %s (attempt %d/%d): %s", self.group_id, event["id"],
                            failed, attempts, type(exc).__name__)
                if failed < attempts:
                    pause = self.settings.consumer_backoff_ms / 1000 * 2 ** (failed - 1)
                    if pause < HANDLER_KEEPALIVE_S:
                        eventlet.sleep(pause)
                    else:
                        self._hold(consumer, seconds=pause)

    def _remember_attempt(self, key: tuple, failed: int, exc: BaseException) -> None:
        if len(self._attempts) > 10_000:
            self._attempts.clear()  # only records of partitions long gone can pile up here
        self._attempts[key] = (failed, exc)

    def _call_handler(self, consumer, event: dict, carrier: dict) -> None:
        done = Event()

        def handle_result(worker_ctx, result, exc_info):
            done.send((result, exc_info))
            return result, exc_info

        self.container.spawn_worker(self, (event,), {}, context_data=dict(carrier), handle_result=handle_result)
        if done.wait(timeout=HANDLER_KEEPALIVE_S) is None and not done.ready():
            # a slow handler (e.g. a transaction retrying against a database that is down) must not cost this
            # member its place in the group: poll, with the partitions paused, until it returns
            self._hold(consumer, until=done.ready)
        _, exc_info = done.wait()
        if exc_info is not None:
            raise exc_info[1]

    def _dead_letter(self, record, exc: BaseException | None, attempts: int) -> None:
        """Copy the record to the dead-letter topic and wait for the broker's acknowledgement; raises _Unavailable
        when it does not come, so the record is not committed and is tried again later."""
        headers = [(k, v) for k, v in (record.headers or ()) if not k.startswith("dlq.")]
        headers += [(k, str(v).encode("utf-8")) for k, v in (
            ("dlq.original.topic", record.topic), ("dlq.original.partition", record.partition),
            ("dlq.original.offset", record.offset), ("dlq.consumer", self.group_id),
            ("dlq.error.type", type(exc).__name__), ("dlq.error", str(exc)[:1000]),
            ("dlq.attempts", attempts), ("dlq.failed.at", datetime.now(timezone.utc).isoformat()),
        )]
        try:
            future = self._producer.send(self.dead_letter_topic, key=record.key, value=record.value, headers=headers)
            self._producer.flush(timeout=DEAD_LETTER_TIMEOUT_S)
            future.get(timeout=DEAD_LETTER_TIMEOUT_S)
        except Exception as send_error:
            log.warning("dead-lettering %s[%d]@%d from %s was not acknowledged (%s); it is retried, not skipped",
                        record.topic, record.partition, record.offset, self.group_id, type(send_error).__name__)
            raise _Unavailable(send_error) from send_error
        log.error("dead-lettered %s[%d]@%d from %s: %s", record.topic, record.partition, record.offset,
                  self.group_id, type(exc).__name__)

    # -- offsets ---------------------------------------------------------------------------------------------------
    def _commit(self, consumer, tp, offset: int) -> None:
        self._pending[tp] = max(offset, self._pending.get(tp, -1))
        self._flush_commits(consumer)

    def _flush_commits(self, consumer) -> None:
        """Commit the pending offsets that move their partition forward; a failed one stays pending."""
        if not self._pending:
            return
        assigned = consumer.assignment()
        for tp, offset in list(self._pending.items()):
            if tp not in assigned:
                self._pending.pop(tp, None)
                continue
            try:
                # the floor is what this member committed and what the group holds now (another member may have
                # moved it on while this one was stopped or cut off): a commit below it would send the group back
                group = consumer.committed(tp, timeout_ms=COMMIT_TIMEOUT_MS)
                floor = max(self._committed.get(tp, -1), -1 if group is None else group)
                if offset <= floor:
                    self._pending.pop(tp, None)  # already at or past it: offsets never move back
                    self._committed[tp] = floor
                    continue
                self._pause_for_fault_test()
                consumer.commit({tp: OffsetAndMetadata(offset, "", -1)}, timeout_ms=COMMIT_TIMEOUT_MS)
                self._committed[tp] = offset
                self._pending.pop(tp, None)
            except CommitFailedError:
                # a rebalance took the partition away after the effects were stored: the new owner gets the records
                # again and its inbox recognises them, so nothing is lost or applied twice
                log.warning("commit of %s@%d failed after a rebalance", tp, offset)
                self._pending.pop(tp, None)
            except Exception as exc:
                log.warning("commit of %s@%d by %s failed (%s); retrying", tp, offset, self.group_id,
                            type(exc).__name__)

    def _pause_for_fault_test(self) -> None:
        marker = self._fault_marker
        if not marker or os.path.exists(marker):
            return
        with open(marker, "w") as fh:
            fh.write(str(os.getpid()))
        log.warning("fault injection: effects stored, pausing before the offset commit")
        while True:
            eventlet.sleep(1)


kafka_consumer = KafkaConsumer.decorator
