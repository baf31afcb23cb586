"""Outbox relay: publishes a service's pending outbox rows to Kafka and marks them sent.

Run one or more per service: ``python -m kit.relay grants``. Only the holder of the service's lease (one document
in ``relay_lease``) publishes; the others stand by and take over when the holder stops renewing it. It is safe to
kill at any point: a row is marked sent only after the broker acknowledged it, so a crash between the two publishes
it again with the same event id, which consumers' inboxes recognise.

Per pass the holder publishes pending rows in their subject's ``sequence`` order, never sequence n of a subject
before n-1 is settled (sent or parked), and then settles each row on its own:

* acknowledged: marked ``sent``, whatever happened to the rows after it;
* refused for good (too large, a topic Kafka refuses, not authorised, an envelope that no longer validates):
  ``parked`` with the reason and time, logged at error level; the rows after it flow. Operators list parked rows
  with ``python -m kit.relay <service> --parked`` and return one with ``--requeue <id>``;
* not delivered for a reason that passes (broker down, timeouts): left pending, with the later rows of its
  subject; the relay recreates its producer (a fresh idempotent producer id) and backs off.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Callable

from kafka import errors as kafka_errors
from opentelemetry.trace import SpanKind
from pymongo import UpdateOne
from pymongo.errors import DuplicateKeyError, PyMongoError

from kit import kafka_io, outbox, tracing
from kit.contracts import ContractError, Registry, default_registry
from kit.envelope import encode
from kit.logs import configure as configure_logs
from kit.mongo import connect
from kit.settings import Settings, load

log = logging.getLogger("actionplan.relay")
# Fault injection for the failure tests only: pause after the broker acknowledged and before rows are marked sent,
# once: the pause happens only while the marker file does not exist yet.
FAULT_ENV = "RELAY_FAULT_PAUSE_AFTER_PUBLISH"
LEASES = "relay_lease"
BACKOFF_FIRST_S, BACKOFF_MAX_S = 0.5, 5.0
HELD_WARNING_S = 30.0
REASON_MAX = 500

# Failures that belong to the row, not to the moment: retrying cannot help, so the row is parked.
UNSENDABLE = (kafka_errors.MessageSizeTooLargeError, kafka_errors.RecordListTooLargeError,
              kafka_errors.InvalidTopicError, kafka_errors.TopicAuthorizationFailedError,
              kafka_errors.InvalidRecordError, kafka_errors.CorruptRecordError, ContractError)
# KafkaProducer.send raises these synchronously for a topic name Kafka refuses or a value it cannot take
UNSENDABLE_AT_SEND = UNSENDABLE + (ValueError, TypeError)


class BrokerUnavailable(RuntimeError):
    """A pass could not deliver every row for a reason that passes; the rows are pending and are retried."""


def _when(value) -> str:
    """A stored time as ISO 8601 text (naive datetimes are UTC; a server that stored text gets it back as is)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
    return "" if value is None else str(value)


def reason_of(exc: BaseException) -> str:
    """Error type and message, without the payload: a contract error names the failing paths, not the values."""
    if isinstance(exc, ContractError) and exc.problems:
        full = str(exc)
        head = full[: len(full) - len(": " + "; ".join(exc.problems))]
        message = f"{head} at {', '.join(p.split(':', 1)[0] for p in exc.problems)}"
    else:
        message = str(exc)
    name = type(exc).__name__
    if message.startswith(name + ": "):  # kafka-python's errors already start with their name
        message = message[len(name) + 2:]
    return f"{name}: {message}"[:REASON_MAX]


class Lease:
    """Who publishes for a service: one document ``{_id: service, holder, renewals, expiresAt}``.

    The holder renews it every pass. A stand-by takes it over when it is free (released) or when its renewal count
    has not moved for ``seconds`` by the stand-by's own monotonic clock; wall clocks are never compared, so skew
    between hosts cannot cut a live holder's lease short (``expiresAt`` is for operators to read). Every change is
    a compare-and-set on (holder, renewals), so exactly one contender wins. The holder trusts its lease only for
    ``seconds`` after the start of its last successful renewal, which ends before any stand-by can take over."""

    def __init__(self, db, service: str, seconds: float, holder: str | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.docs = db[LEASES]
        self.service = service
        self.seconds = seconds
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.clock, self.now = clock, now
        self.valid_until = float("-inf")
        self._seen: tuple | None = None
        self._seen_at = 0.0

    def valid(self) -> bool:
        return self.clock() < self.valid_until

    def refresh(self) -> bool:
        """Renew the lease if we hold it, take it if it is free or has run out; True if we hold it now."""
        started = self.clock()
        wall = self.now()
        was_valid = self.valid()
        doc = self.docs.find_one({"_id": self.service})
        if doc is None:
            try:
                self.docs.insert_one({"_id": self.service, "holder": self.holder, "renewals": 1,
                                      "acquiredAt": wall, "expiresAt": wall + timedelta(seconds=self.seconds)})
            except DuplicateKeyError:
                return self._stand_by(was_valid)
            log.info("relay %s acquired the %s lease", self.holder, self.service)
            return self._held(started)
        if doc.get("holder") == self.holder:
            result = self.docs.update_one({"_id": self.service, "holder": self.holder},
                                          {"$inc": {"renewals": 1},
                                           "$set": {"expiresAt": wall + timedelta(seconds=self.seconds)}})
            return self._held(started) if result.matched_count == 1 else self._stand_by(was_valid)
        token = (doc.get("holder"), doc.get("renewals"))
        if token != self._seen:
            self._seen, self._seen_at = token, started
        free = doc.get("holder") is None
        silent = started - self._seen_at >= self.seconds
        if not (free or silent):
            return self._stand_by(was_valid)
        result = self.docs.update_one(
            {"_id": self.service, "holder": doc.get("holder"), "renewals": doc.get("renewals")},
            {"$set": {"holder": self.holder, "acquiredAt": wall, "expiresAt": wall + timedelta(seconds=self.seconds)},
             "$inc": {"renewals": 1}})
        if result.matched_count != 1:
            return self._stand_by(was_valid)
        if free:
            log.info("relay %s acquired the released %s lease", self.holder, self.service)
        else:
            log.warning("relay %s took over the %s lease from %s (not renewed for %.1fs)", self.holder,
                        self.service, doc.get("holder"), started - self._seen_at)
        return self._held(started)

    def _held(self, started: float) -> bool:
        self.valid_until = started + self.seconds
        return True

    def _stand_by(self, was_valid: bool) -> bool:
        if was_valid:
            log.warning("relay %s lost the %s lease; standing by", self.holder, self.service)
        self.valid_until = float("-inf")
        return False

    def release(self) -> None:
        """Give the lease up (on a clean stop), so a stand-by takes over at once."""
        self.valid_until = float("-inf")
        self.docs.update_one({"_id": self.service, "holder": self.holder},
                             {"$set": {"holder": None, "expiresAt": self.now()}, "$inc": {"renewals": 1}})


class Relay:
    def __init__(self, settings: Settings, db, producer_factory: Callable[[], object],
                 registry: Registry | None = None, lease: Lease | None = None) -> None:
        self.settings = settings
        self.rows = db[outbox.COLLECTION]
        self.sequences = db[outbox.SEQUENCES]
        self.new_producer = producer_factory
        self.producer = None
        self.registry = registry or default_registry()
        self.lease = lease or Lease(db, settings.service, settings.relay_lease_s)
        self.stopping = threading.Event()
        self.fault_marker = os.environ.get(FAULT_ENV)
        self.failures = 0
        self._held_since: dict[str, float] = {}

    # -- one pass --------------------------------------------------------------------------------------------------
    def run_once(self) -> int:
        """Publish one batch if we hold the lease; returns how many rows were settled (sent or parked).

        Raises BrokerUnavailable, after settling what it could, when some rows were not delivered for a reason
        that passes."""
        if not self.lease.refresh():
            self._drop_producer()
            return 0
        batch = self._batch()
        if not batch:
            return 0
        if self.producer is None:
            try:
                self.producer = self.new_producer()
            except kafka_errors.KafkaError as exc:  # NoBrokersAvailable and friends
                raise BrokerUnavailable(f"cannot connect to the broker: {reason_of(exc)}") from exc
        if not self.lease.valid():  # connecting took longer than the lease: another relay may have taken over
            return 0

        in_flight, parked, failure = [], [], None
        for row in batch:
            try:
                self.registry.validate(row["envelope"])
                in_flight.append((row, self._send(row)))
            except UNSENDABLE_AT_SEND as exc:
                parked.append((row, exc))
            except (kafka_errors.KafkaError, OSError) as exc:  # no metadata, buffer full: the broker is not there
                failure = exc
                break
        self._await([future for _, future in in_flight])

        outcome: dict[str, object] = {row["_id"]: exc for row, exc in parked}
        for row, future in in_flight:
            if not future.is_done:
                outcome[row["_id"]] = kafka_errors.KafkaTimeoutError("not acknowledged in time")
            elif future.failed():
                outcome[row["_id"]] = future.exception
            else:
                outcome[row["_id"]] = None
        sent, to_park, blocked = [], [], set()
        for row in batch:  # per subject in sequence order: stop settling a subject at its first passing failure
            if row["_id"] not in outcome or row["key"] in blocked:
                blocked.add(row["key"])
                continue
            exc = outcome[row["_id"]]
            if exc is None:
                sent.append(row)
            elif isinstance(exc, UNSENDABLE_AT_SEND):
                to_park.append((row, exc))
            else:
                blocked.add(row["key"])
                failure = failure or exc

        if self.fault_marker and sent and not os.path.exists(self.fault_marker):
            self._pause_for_fault_test(len(sent))
        self._settle(sent, to_park)
        if failure is not None:
            raise BrokerUnavailable(f"{len(batch) - len(sent) - len(to_park)} rows left pending: "
                                    f"{reason_of(failure)}")
        return len(sent) + len(to_park)

    def _batch(self) -> list[dict]:
        """Pending rows in publish order, without those whose predecessor in their subject is not settled yet.

        Sorting by sequence first means a row's pending predecessors are always in the same batch, ahead of it."""
        pending = list(self.rows.find({"status": outbox.PENDING})
                       .sort([("sequence", 1), ("order", 1)]).limit(self.settings.relay_batch))
        keys = sorted({r["key"] for r in pending if r.get("sequence") is not None})
        published = {d["_id"]: d.get("published", 0)
                     for d in self.sequences.find({"_id": {"$in": keys}})} if keys else {}
        expected: dict[str, int] = {}
        ready, held = [], set()
        for row in pending:
            sequence, key = row.get("sequence"), row["key"]
            if sequence is None:  # staged before sequences existed: wall-clock order
                ready.append(row)
                continue
            if key in held:  # an earlier row of this subject waits: so does every later one
                continue
            if key not in expected:
                expected[key] = published.get(key, 0) + 1
                if sequence > expected[key] and self._settled(key, sequence - 1):
                    expected[key] = sequence  # the watermark lagged (a crash after marking): the row says more
            if sequence < expected[key]:  # requeued after later rows of its subject went out
                ready.append(row)
            elif sequence == expected[key]:
                ready.append(row)
                expected[key] = sequence + 1
            else:
                held.add(key)
        self._note_held(held)
        return ready

    def _settled(self, key: str, sequence: int) -> bool:
        return self.rows.find_one({"key": key, "sequence": sequence, "status": {"$in": list(outbox.SETTLED)}},
                                  {"_id": 1}) is not None

    def _note_held(self, held: set[str]) -> None:
        now = time.monotonic()
        for key in list(self._held_since):
            if key not in held:
                del self._held_since[key]
        for key in held:
            since = self._held_since.setdefault(key, now)
            if now - since >= HELD_WARNING_S:
                log.warning("rows of subject %r are held: an earlier sequence of it has not been staged or "
                            "settled for %.0fs", key, now - since)
                self._held_since[key] = now

    def _send(self, row: dict):
        envelope = row["envelope"]
        attributes = {"messaging.system": "kafka", "messaging.destination.name": row["topic"],
                      "messaging.message.id": row["_id"], "cloudevents.event_type": row["type"]}
        with tracing.span_from({"traceparent": envelope.get("traceparent")}, f"{row['topic']} publish",
                               SpanKind.PRODUCER, attributes):
            headers = tracing.kafka_headers(tracing.current_traceparent())
            headers += [("ce_id", row["_id"].encode()), ("ce_type", row["type"].encode())]
            if row.get("sequence") is not None:
                headers.append(("ce_sequence", str(row["sequence"]).encode()))
            return self.producer.send(row["topic"], key=row["key"].encode("utf-8"), value=encode(envelope),
                                      headers=headers)

    def _await(self, futures: list) -> None:
        """Wait for every send to complete, at most the delivery timeout and a margin, renewing the lease."""
        if not futures:
            return
        deadline = time.monotonic() + self.settings.kafka_delivery_timeout_ms / 1000 + 5
        step = max(0.2, min(5.0, self.settings.relay_lease_s / 3))
        while not all(f.is_done for f in futures) and time.monotonic() < deadline:
            try:
                self.producer.flush(timeout=min(step, max(0.0, deadline - time.monotonic())))
            except kafka_errors.KafkaTimeoutError:
                pass
            try:
                self.lease.refresh()  # the sends are out: their results are recorded even if the lease is lost
            except PyMongoError:
                pass

    def _settle(self, sent: list[dict], parked: list[tuple[dict, BaseException]]) -> None:
        now = datetime.now(timezone.utc)
        if sent:
            self.rows.update_many({"_id": {"$in": [r["_id"] for r in sent]}, "status": outbox.PENDING},
                                  {"$set": {"status": outbox.SENT, "sentAt": now}})
        for row, exc in parked:
            reason = reason_of(exc)
            self.rows.update_one({"_id": row["_id"], "status": outbox.PENDING},
                                 {"$set": {"status": outbox.PARKED, "parkedReason": reason, "parkedAt": now}})
            log.error("parked outbox row %s (%s, subject %r, sequence %s, topic %s): %s; requeue it with "
                      "`python -m kit.relay %s --requeue %s`", row["_id"], row["type"], row["key"],
                      row.get("sequence"), row["topic"], reason, self.settings.service, row["_id"])
        marks: dict[str, int] = {}
        for row in sent + [row for row, _ in parked]:
            if row.get("sequence") is not None:
                marks[row["key"]] = max(marks.get(row["key"], 0), row["sequence"])
        if marks:
            self.sequences.bulk_write([UpdateOne({"_id": key}, {"$max": {"published": sequence}})
                                       for key, sequence in marks.items()], ordered=False)

    def _pause_for_fault_test(self, count: int) -> None:
        with open(self.fault_marker, "w") as fh:
            fh.write(str(count))
        log.warning("fault injection: published %d rows, pausing before marking them sent", count)
        while True:
            time.sleep(1)

    # -- the loop --------------------------------------------------------------------------------------------------
    def run(self) -> None:
        interval = self.settings.relay_interval_ms / 1000
        while not self.stopping.is_set():
            try:
                settled = self.run_once()
                self.failures = 0
            except BrokerUnavailable as exc:
                self._failed(f"broker unavailable, retrying: {exc}", exc)
                self._drop_producer()
                settled = 0
            except PyMongoError as exc:
                self._failed(f"MongoDB error, retrying: {reason_of(exc)}", exc)
                settled = 0
            except Exception as exc:  # noqa: BLE001 - the relay must keep going; the log says what happened
                log.exception("relay pass failed; retrying")
                self._failed(None, exc)
                self._drop_producer()
                settled = 0
            if not settled:
                self._wait(interval)

    def _failed(self, message: str | None, exc: BaseException) -> None:
        self.failures += 1
        delay = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (self.failures - 1))
        if message:
            (log.warning if self.failures == 1 or self.failures % 10 == 0 else log.info)(
                "%s (attempt %d, next in %.1fs)", message, self.failures, delay)
        self._wait(delay)

    def _wait(self, seconds: float) -> None:
        """Sleep, renewing the lease meanwhile so a back-off does not hand it to a stand-by."""
        deadline = time.monotonic() + seconds
        step = max(0.05, self.settings.relay_lease_s / 3)
        while not self.stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.stopping.wait(min(step, left))
            if self.lease.valid() and deadline - time.monotonic() > 0:
                try:
                    self.lease.refresh()
                except PyMongoError:
                    pass

    def _drop_producer(self) -> None:
        """Close the producer so the next pass starts a fresh one (new idempotent producer id, no old sequence
        state)."""
        producer, self.producer = self.producer, None
        if producer is None:
            return
        try:
            producer.close(timeout=1)
        except Exception:  # noqa: BLE001 - it is being discarded; a stuck sender thread is forced closed
            sender = getattr(producer, "_sender", None)
            if sender is not None:
                sender.force_close()

    def close(self) -> None:
        if self.producer is not None:
            try:
                self.producer.flush(timeout=10)
            except Exception:  # noqa: BLE001
                pass
        self._drop_producer()
        try:
            self.lease.release()
        except PyMongoError:
            pass


# -- operators' commands ---------------------------------------------------------------------------------------
def parked_rows(db) -> list[dict]:
    return list(db[outbox.COLLECTION].find({"status": outbox.PARKED},
                                           {"envelope": 0}).sort([("parkedAt", 1), ("_id", 1)]))


def requeue(db, row_id: str) -> bool:
    """Return one parked row to pending; False if there is no parked row with that id."""
    result = db[outbox.COLLECTION].update_one(
        {"_id": row_id, "status": outbox.PARKED},
        {"$set": {"status": outbox.PENDING, "requeuedAt": datetime.now(timezone.utc)},
         "$unset": {"parkedReason": "", "parkedAt": ""}})
    return result.matched_count == 1


def _print_parked(db) -> None:
    rows = parked_rows(db)
    print("\t".join(("id", "type", "key", "reason", "parkedAt")))
    for row in rows:
        print("\t".join((row["_id"], row.get("type", ""), row.get("key", ""), row.get("parkedReason", ""),
                         _when(row.get("parkedAt")))))
    print(f"{len(rows)} parked row(s)", file=sys.stderr)


def producer_factory(settings: Settings) -> Callable[[], object]:
    """Makes the relay's producer, creating the service's topics first (once), so a relay started while the
    broker is down just waits for it."""
    state = {"topics": False}
    connect_ms = int(max(1000, min(10000, settings.relay_lease_s * 1000 / 2, settings.kafka_delivery_timeout_ms)))

    def make():
        # the producer first: its short bootstrap timeout tells quickly whether the broker is there at all
        made = kafka_io.producer(settings, max_block_ms=connect_ms, bootstrap_timeout_ms=connect_ms)
        if not state["topics"]:
            owned = [settings.topic(c.topic) for c in default_registry().events.values()
                     if c.owner == settings.service]
            try:
                kafka_io.ensure_topics(settings, owned)
            except BaseException:
                made.close(timeout=0)
                raise
            state["topics"] = True
        return made
    return make


USAGE = "usage: python -m kit.relay <service> [--parked | --requeue <id>]"


def main(argv: list[str]) -> int:
    if not argv or len(argv) > 3 or (len(argv) > 1 and argv[1] not in ("--parked", "--requeue")) \
            or (argv[1:2] == ["--parked"] and len(argv) != 2) or (argv[1:2] == ["--requeue"] and len(argv) != 3):
        print(USAGE, file=sys.stderr)
        return 2
    settings = load(argv[0])
    if len(argv) > 1:
        client = connect(settings)
        try:
            db = client[settings.database]
            if argv[1] == "--parked":
                _print_parked(db)
                return 0
            if requeue(db, argv[2]):
                print(f"requeued {argv[2]}")
                return 0
            print(f"no parked outbox row {argv[2]!r} in {settings.database}", file=sys.stderr)
            return 1
        finally:
            client.close()

    configure_logs(f"{settings.service}-relay")
    tracing.setup(f"{settings.service}-relay", settings.trace_exporter)
    client = connect(settings)
    db = client[settings.database]
    relay = Relay(settings, db, producer_factory(settings))
    signal.signal(signal.SIGTERM, lambda *_: relay.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: relay.stopping.set())
    while not relay.stopping.is_set():
        try:
            outbox.ensure_indexes(db)
            break
        except PyMongoError as exc:
            log.warning("MongoDB not ready, retrying: %s", reason_of(exc))
            relay.stopping.wait(2.0)
    log.info("relay %s for %s started (database %s, lease %gs)", relay.lease.holder, settings.service,
             settings.database, settings.relay_lease_s)
    relay.run()
    relay.close()
    tracing.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
