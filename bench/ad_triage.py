"""The ad triage figures: ingestion to flagged event, the raw broker baseline, memory, the domain's own rate."""
from __future__ import annotations

import io
import json
import threading
import time

import psutil
from kafka import KafkaConsumer

from kit import kafka_io
from kit.pseudonym import Pseudonymiser
from services.ad_triage.contracts import ADS_TOPIC
from services.ad_triage.domain.batch import batch_features
from services.ad_triage.domain.record_lines import parse_jsonl
from services.ad_triage.domain.ruleset import ruleset_version
from services.ad_triage.domain.scoring import score
from services.ad_triage.domain.stored import to_stored
from services.ad_triage.tools.generate_ads import generate, write_jsonl
from tests.support.rpc import rpc_as

FLAGGED = "ad_triage.ad.flagged"
MIB = 1024 * 1024


def entry(name: str, figure: float, unit: str, baseline: float | None) -> dict:
    return {"name": name, "figure": round(figure, 2), "unit": unit,
            "baseline": None if baseline is None else round(baseline, 2),
            "ratio": None if not baseline else round(figure / baseline, 4)}


def _consumer(platform, topic: str) -> KafkaConsumer:
    consumer = KafkaConsumer(topic, bootstrap_servers=platform.env["KAFKA_BOOTSTRAP_SERVERS"], group_id=None,
                             auto_offset_reset="earliest", enable_auto_commit=False, max_poll_records=2000)
    consumer.poll(timeout_ms=500)  # joins and gets its partitions before the clock starts
    return consumer


def raw_produce_consume(platform, payloads: list[bytes]) -> float:
    """Messages per second from the first send until the last message is read, with the platform's producer."""
    settings = platform.settings("bench")
    topic = settings.topic("bench.baseline")
    kafka_io.ensure_topics(settings, [topic])
    consumer, producer = _consumer(platform, topic), kafka_io.producer(settings)
    read = 0
    start = time.perf_counter()
    for i, payload in enumerate(payloads):
        producer.send(topic, key=str(i).encode(), value=payload)
    producer.flush()
    while read < len(payloads):
        read += sum(len(batch) for batch in consumer.poll(timeout_ms=200).values())
    elapsed = time.perf_counter() - start
    producer.close()
    consumer.close()
    return len(payloads) / elapsed


def ingest_to_flagged(platform, lines: list[str], chunk: int) -> tuple[float, int, float]:
    """Ads per second from the first import call until the last flagged event is read from Kafka."""
    settings = platform.settings("ad_triage")
    topic = settings.topic(ADS_TOPIC)
    kafka_io.ensure_topics(settings, [topic])
    consumer = _consumer(platform, topic)
    expected = {"flagged": 0, "done": False, "error": None}

    def do_import():
        # one caller: the service ingests under one lock, and two callers measured slower (more contention)
        try:
            # as the bulk import tool does: the connector's service role (policy/access.toml)
            with rpc_as(platform, "ingest_connector", timeout=300) as rpc:
                for start in range(0, len(lines), chunk):
                    report = rpc.ad_triage.import_batch(lines=lines[start:start + chunk], format="jsonl",
                                                        actor="bench", first_line=start + 1)
                    expected["flagged"] += report["flagged"]
        except Exception as exc:  # reported by the main thread
            expected["error"] = exc
        expected["done"] = True

    flagged = 0
    started = time.perf_counter()
    importer = threading.Thread(target=do_import)
    importer.start()
    imported_at = None
    while not expected["done"] or flagged < expected["flagged"]:
        if expected["error"]:
            raise expected["error"]
        if expected["done"] and imported_at is None:
            imported_at = time.perf_counter()
        for batch in consumer.poll(timeout_ms=100).values():
            flagged += sum(json.loads(r.value)["type"] == FLAGGED for r in batch)
        if time.perf_counter() - started > 600:
            raise TimeoutError(f"only {flagged} of {expected['flagged']} flagged events after 600 s")
    elapsed = time.perf_counter() - started
    importer.join()
    consumer.close()
    if expected["error"]:  # a failed import must never be reported as a rate
        raise expected["error"]
    return len(lines) / elapsed, flagged, (imported_at or time.perf_counter()) - started


def domain_pipeline(lines: list[str]) -> float:
    """Ads per second through parse, pseudonymise and mask, link, summarise and score in this process."""
    pseudonymise = Pseudonymiser(b"b" * 32).for_purpose("ad-linkage")
    ruleset = ruleset_version()
    start = time.perf_counter()
    stored = [to_stored(ad, pseudonymise) for _, ad in parse_jsonl(lines)]
    features, _ = batch_features(stored)
    for ad in stored:
        score(ad, features[ad.key], ruleset, text_is_masked=True)
    return len(stored) / (time.perf_counter() - start)


def run(platform, count: int, chunk: int, seed: int) -> list[dict]:
    buffer = io.StringIO()
    write_jsonl(generate(count, seed), buffer)
    lines = buffer.getvalue().splitlines()
    payloads = [line.encode("utf-8") for line in lines]  # the baseline moves the same bytes as the import
    baseline = raw_produce_consume(platform, payloads)
    service = platform.service("ad_triage")
    platform.relay("ad_triage")
    process = psutil.Process(service.popen.pid)
    idle_rss = process.memory_info().rss / MIB
    rate, flagged, import_s = ingest_to_flagged(platform, lines, chunk)
    rss = process.memory_info().rss / MIB
    print(f"{count} ads, {flagged} flagged events; imports returned after {import_s:.2f} s")
    return [
        entry("ad_triage.ingest_to_flagged_event", rate, "ads/s", baseline),
        entry("ad_triage.service_rss_after_ingest", rss, "MiB", idle_rss),
        entry("ad_triage.domain_pipeline_in_process", domain_pipeline(lines), "ads/s", None),
    ]
