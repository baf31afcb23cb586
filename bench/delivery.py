"""The kit's delivery figures: the outbox relay's throughput and the consumer's exactly-once throughput, each beside
raw produce-and-consume of as many messages of the same size on the same broker, in the same run."""
from __future__ import annotations

import time

from bench.ad_triage import entry, raw_produce_consume
from kit.envelope import encode
from kit.mongo import connect, in_transaction
from kit.outbox import COLLECTION, SENT, Outbox
from tests.support.events import produce_events, submitted
from tests.support.rpc import rpc_as

STAGE_BATCH = 500


def relay_throughput(platform, events: list[dict]) -> float:
    """Rows per second from the relay's start until every staged row is marked sent (so: on the broker)."""
    settings = platform.settings("grants")
    client = connect(settings)
    db = client[settings.database]
    box = Outbox(db, settings)
    for start in range(0, len(events), STAGE_BATCH):
        chunk = [(e["type"], e["subject"], e["data"]) for e in events[start:start + STAGE_BATCH]]
        in_transaction(client, lambda s, c=chunk: box.add_many(s, c))
    started = time.perf_counter()
    relay = platform.relay("grants")
    try:
        while db[COLLECTION].count_documents({"status": SENT}) < len(events):
            if not relay.alive():
                raise RuntimeError(f"the relay exited; see {relay.log_path}")
            if time.perf_counter() - started > 600:
                raise TimeoutError("the relay did not drain the outbox within 600 s")
            time.sleep(0.05)
        return len(events) / (time.perf_counter() - started)
    finally:
        relay.stop()
        client.close()


def consumer_throughput(platform, events: list[dict]) -> float:
    """Events per second from the first produced event until the evaluation service counted the last one (each
    with its inbox row and counter update in one MongoDB transaction)."""
    settings = platform.settings("evaluation")
    platform.service("evaluation")
    started = time.perf_counter()
    produce_events(settings, "grants.applications", events)
    with rpc_as(platform, "evaluator") as rpc:  # the counts are an evaluator's figures (policy/access.toml)
        while _submitted(rpc) < len(events):
            if time.perf_counter() - started > 600:
                raise TimeoutError("the consumer did not count every event within 600 s")
            time.sleep(0.05)
    return len(events) / (time.perf_counter() - started)


def _submitted(rpc) -> int:
    return sum(row["count"] for row in rpc.evaluation.activity_counts()["applications_submitted"])


def run(platform, count: int) -> list[dict]:
    relayed = [submitted() for _ in range(count)]
    consumed = [submitted() for _ in range(count)]
    baseline = raw_produce_consume(platform, [encode(e) for e in relayed])
    relay_rate = relay_throughput(platform, relayed)
    consume_rate = consumer_throughput(platform, consumed)
    print(f"{count} events relayed and {count} consumed exactly once")
    return [entry("kit.relay_outbox_to_broker", relay_rate, "events/s", baseline),
            entry("kit.consumer_exactly_once", consume_rate, "events/s", baseline)]
