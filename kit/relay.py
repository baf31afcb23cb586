"""Outbox relay: publishes a service's pending outbox rows to Kafka and marks them sent.

Run one per service: ``python -m kit.relay grants``. It is safe to kill at any point: a row is marked sent only
after the broker acknowledged it, so a crash between the two publishes it again with the same event id, which
consumers' inboxes recognise.
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from datetime import datetime, timezone

from opentelemetry.trace import SpanKind

from kit import kafka_io, outbox, tracing
from kit.contracts import default_registry
from kit.envelope import encode
from kit.logs import configure as configure_logs
from kit.mongo import connect
from kit.settings import Settings, load

log = logging.getLogger("actionplan.relay")
# Fault injection for the failure tests only: pause after the broker acknowledged and before rows are marked sent.
FAULT_ENV = "RELAY_FAULT_PAUSE_AFTER_PUBLISH"


class Relay:
    def __init__(self, settings: Settings, db, producer) -> None:
        self.settings = settings
        self.rows = db[outbox.COLLECTION]
        self.producer = producer
        self.stopping = threading.Event()
        self.fault_marker = os.environ.get(FAULT_ENV)

    def run_once(self) -> int:
        rows = list(self.rows.find({"status": outbox.PENDING}).sort("order", 1).limit(self.settings.relay_batch))
        if not rows:
            return 0
        futures = []
        for row in rows:
            envelope = row["envelope"]
            attributes = {"messaging.system": "kafka", "messaging.destination.name": row["topic"],
                          "messaging.message.id": row["_id"], "cloudevents.event_type": row["type"]}
            with tracing.span_from({"traceparent": envelope.get("traceparent")}, f"{row['topic']} publish",
                                   SpanKind.PRODUCER, attributes):
                headers = tracing.kafka_headers(tracing.current_traceparent())
                headers += [("ce_id", row["_id"].encode()), ("ce_type", row["type"].encode())]
                futures.append(self.producer.send(row["topic"], key=row["key"].encode("utf-8"),
                                                  value=encode(envelope), headers=headers))
        self.producer.flush()
        for future in futures:
            future.get(timeout=30)  # raises if the broker refused a row: nothing is marked, all are retried
        if self.fault_marker:
            self._pause_for_fault_test(len(rows))
        self.rows.update_many({"_id": {"$in": [r["_id"] for r in rows]}},
                              {"$set": {"status": outbox.SENT, "sentAt": datetime.now(timezone.utc)}})
        return len(rows)

    def _pause_for_fault_test(self, count: int) -> None:
        with open(self.fault_marker, "w") as fh:
            fh.write(str(count))
        log.warning("fault injection: published %d rows, pausing before marking them sent", count)
        while True:
            time.sleep(1)

    def run(self) -> None:
        interval = self.settings.relay_interval_ms / 1000
        while not self.stopping.is_set():
            try:
                published = self.run_once()
            except Exception:
                log.exception("relay pass failed; retrying")
                published = 0
                self.stopping.wait(1.0)
            if not published:
                self.stopping.wait(interval)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m kit.relay <service>", file=sys.stderr)
        return 2
    settings = load(argv[0])
    configure_logs(f"{settings.service}-relay")
    tracing.setup(f"{settings.service}-relay", settings.trace_exporter)
    client = connect(settings)
    db = client[settings.database]
    outbox.ensure_indexes(db)
    owned = [settings.topic(c.topic) for c in default_registry().events.values() if c.owner == settings.service]
    kafka_io.ensure_topics(settings, owned)
    relay = Relay(settings, db, kafka_io.producer(settings))
    signal.signal(signal.SIGTERM, lambda *_: relay.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: relay.stopping.set())
    log.info("relay for %s started (database %s)", settings.service, settings.database)
    relay.run()
    relay.producer.flush()
    relay.producer.close()
    tracing.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
