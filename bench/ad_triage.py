"""The ad triage figures at scale (issue 10, item 5): ingestion to flagged event over all ads beside raw
produce-and-consume of the same lines on the same broker in the same run; the triage queue page through the gateway
at two sizes (bench/triage_queue.py); the service's resident memory after the ingest; a rescore of every stored ad
under another rule-set version; the domain pipeline's in-process rate.

The ads are ingested in two stages so that the queue is measured at two sizes: 10,000 and all of them (with 10,000
or fewer: a tenth and all). The ingestion rate is all ads over the two stages' ingestion time (the queue measurement
between them is not counted)."""
from __future__ import annotations

import io
import json
import threading
import time
from datetime import datetime, timedelta, timezone

import psutil
from kafka import KafkaConsumer
from pymongo import ReplaceOne

from bench import triage_queue
from kit import kafka_io
from kit.mongo import connect, in_transaction
from kit.pseudonym import Pseudonymiser
from services.ad_triage.contracts import ADS_TOPIC
from services.ad_triage.domain.arrivals import split_lines
from services.ad_triage.domain.linkage import CONTACT, IMAGE
from services.ad_triage.domain.text_signature import bands, decode
from services.ad_triage.tools.generate_ads import generate, write_jsonl
from tests.support.rpc import rpc_as

FLAGGED = "ad_triage.ad.flagged"
MIB = 1024 * 1024
FIRST_STAGE = 10_000
DOMAIN_SAMPLE = 10_000  # the in-process pipeline links in memory: 100,000 ads take ~90 s, so a sample beyond this


def entry(name: str, figure: float, unit: str, baseline: float | None) -> dict:
    return {"name": name, "figure": round(figure, 2), "unit": unit,
            "baseline": None if baseline is None else round(baseline, 2),
            "ratio": None if not baseline else round(figure / baseline, 4)}


def _consumer(platform, topic: str) -> KafkaConsumer:
    consumer = KafkaConsumer(topic, bootstrap_servers=platform.env["KAFKA_BOOTSTRAP_SERVERS"], group_id=None,
                             auto_offset_reset="earliest", enable_auto_commit=False, max_poll_records=2000)
    consumer.poll(timeout_ms=500)  # joins and gets its partitions before the clock starts
    return consumer


def ingest_timeout(count: int) -> float:
    """Seconds allowed to ingest ``count`` ads (or move as many raw messages): generous, growing with the count."""
    return 600 + count * 0.02


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
    deadline = start + ingest_timeout(len(payloads))
    while read < len(payloads):
        read += sum(len(batch) for batch in consumer.poll(timeout_ms=200).values())
        if time.perf_counter() > deadline:
            raise TimeoutError(f"raw baseline: only {read} of {len(payloads)} messages read back")
    elapsed = time.perf_counter() - start
    producer.close()
    consumer.close()
    return len(payloads) / elapsed


class Incomplete(Exception):
    """A step failed after others were measured: their figures, to print beside the failure (never as results)."""

    def __init__(self, entries: list[dict], step: str) -> None:
        super().__init__(f"{step} failed after {len(entries)} figures were measured")
        self.entries = entries


class Progress:
    """Progress lines with the time since the run started, so a long run shows it is alive."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def __call__(self, message: str) -> None:
        print(f"[ad_triage {time.perf_counter() - self.started:7.1f}s] {message}", flush=True)


class Ingestion:
    """Imports ads stage by stage through ``import_batch`` as the bulk import tool does, and reads the flagged events
    from the ads topic; the consumer is opened once, so every stage waits for its own flagged events."""

    def __init__(self, platform, chunk: int, log: Progress) -> None:
        self.platform, self.chunk, self.log = platform, chunk, log
        settings = platform.settings("ad_triage")
        topic = settings.topic(ADS_TOPIC)
        kafka_io.ensure_topics(settings, [topic])
        self.consumer = _consumer(platform, topic)
        self.flagged_read = 0  # flagged events read so far
        self.totals = {"accepted": 0, "updated": 0, "unchanged": 0, "quarantined": 0, "flagged": 0}
        self.seconds = 0.0  # ingestion time over the stages: first import call to last flagged event read
        self.ingested = 0

    def stage(self, lines: list[str], first_line: int) -> float:
        """Import ``lines`` (line ``first_line`` of the file onwards); seconds until the last flagged event is read."""
        state = {"done": False, "error": None, "imported": 0}
        expected_before = self.totals["flagged"]

        def do_import():
            # one caller: the service ingests under one lock, and two callers measured slower (more contention)
            try:
                # as the bulk import tool does: the connector's service role (policy/access.toml)
                with rpc_as(self.platform, "ingest_connector", timeout=300) as rpc:
                    for start in range(0, len(lines), self.chunk):
                        report = rpc.ad_triage.import_batch(lines=lines[start:start + self.chunk], format="jsonl",
                                                            actor="bench", first_line=first_line + start)
                        for key in self.totals:
                            self.totals[key] += report.get(key, 0)
                        state["imported"] = min(len(lines), start + self.chunk)
            except Exception as exc:  # reported by the main thread
                state["error"] = exc
            state["done"] = True

        timeout = ingest_timeout(len(lines))
        started = time.perf_counter()
        importer = threading.Thread(target=do_import, name="bench-import", daemon=True)
        importer.start()
        imported_at, said = None, started
        while not state["done"] or self.flagged_read < self.totals["flagged"]:
            if state["error"]:
                break
            if state["done"] and imported_at is None:
                imported_at = time.perf_counter()
            for batch in self.consumer.poll(timeout_ms=100).values():
                self.flagged_read += sum(json.loads(r.value)["type"] == FLAGGED for r in batch)
            now = time.perf_counter()
            if now - said >= 15:
                said = now
                self.log(f"  {state['imported']:,} of {len(lines):,} imported, "
                         f"{self.flagged_read - expected_before:,} flagged events read")
            if now - started > timeout:
                raise TimeoutError(f"only {self.flagged_read} of {self.totals['flagged']} flagged events after "
                                   f"{timeout:.0f} s ({state['imported']} of {len(lines)} ads imported)")
        elapsed = time.perf_counter() - started
        importer.join()
        if state["error"]:  # a failed import must never be reported as a rate
            raise state["error"]
        self.seconds += elapsed
        self.ingested += len(lines)
        self.log(f"  {len(lines):,} ads in {elapsed:.1f} s ({len(lines) / elapsed:,.0f} ads/s), "
                 f"{self.totals['flagged'] - expected_before:,} flagged; imports returned after "
                 f"{(imported_at or time.perf_counter()) - started:.1f} s")
        return elapsed

    def close(self) -> None:
        self.consumer.close()


def stage_sizes(count: int) -> tuple[int, int]:
    """The ad counts at which the queue is measured: 10,000 and all, or a tenth and all for 10,000 or fewer."""
    return (FIRST_STAGE, count) if count > FIRST_STAGE else (max(1, count // 10), count)


def rescore(platform, stored: int, log: Progress, timeout: float) -> tuple[float, str, dict]:
    """Seconds to rescore every stored ad by publishing a rule-set version other than the active one (the newest
    such). Waits for an asynchronous rescore (an answer with ``"done": false``) by polling ``rulesets()``; an answer
    that counts the rescored ads must count every stored ad."""
    with rpc_as(platform, "operator", timeout=60) as rpc:
        info = rpc.ad_triage.rulesets()
        previous = info.get("rescore")
        if isinstance(previous, dict) and previous.get("done") is False:  # one still under way: not this one's time
            log(f"rescore: waiting for the unfinished one under {previous.get('version')} first")
            _wait_for_rescore(rpc, previous.get("version"), time.perf_counter(), timeout, log)
            info = rpc.ad_triage.rulesets()
    active = info["active"]
    others = [v for v in info["available"] if v != active]
    if not others:
        raise RuntimeError(f"no rule-set version to publish besides the active {active!r}: {info}")
    version = others[-1]  # the list is oldest first
    log(f"rescore: publishing rule set {version} (active: {active}) over {stored:,} stored ads")
    with rpc_as(platform, "operator", timeout=timeout) as rpc:
        started = time.perf_counter()
        answer = rpc.ad_triage.publish_ruleset(version=version, actor="bench")
        if isinstance(answer, dict) and answer.get("done") is False:
            answer = _wait_for_rescore(rpc, version, started, timeout, log)
        elapsed = time.perf_counter() - started
    if not isinstance(answer, dict):
        raise RuntimeError(f"publish_ruleset answered {answer!r}")
    if answer.get("error") or answer.get("failed"):
        raise RuntimeError(f"the rescore failed: {answer}")
    rescored = answer.get("rescored")
    if isinstance(rescored, int) and rescored != stored:
        raise RuntimeError(f"the rescore under {version} rescored {rescored} ads, but {stored} are stored: {answer}")
    log(f"rescore: {answer} in {elapsed:.1f} s")
    return elapsed, version, answer


def _wait_for_rescore(rpc, version: str | None, started: float, timeout: float, log: Progress) -> dict:
    """An asynchronous rescore: poll ``rulesets()`` until its progress (a ``rescore`` field) says done; without such
    a field, until the version is active."""
    said = started
    while True:
        info = rpc.ad_triage.rulesets()
        progress = info.get("rescore")
        if isinstance(progress, dict):
            if progress.get("error") or progress.get("failed"):
                raise RuntimeError(f"the rescore failed: {progress}")
            if progress.get("done") and (version is None or progress.get("version", version) == version):
                return progress
        elif info.get("active") == version:
            return {"version": version, "done": True}
        now = time.perf_counter()
        if now - started > timeout:
            raise TimeoutError(f"the rescore under {version} not done after {timeout:.0f} s: {info}")
        if now - said >= 15:
            said = now
            log(f"  rescore under way: {progress if progress is not None else info}")
        time.sleep(0.5)


def domain_pipeline(lines: list[str]) -> float | None:
    """Ads per second through parse, pseudonymise and mask, link, summarise and score in this process (None when the
    domain's modules have moved: the figure is then left out, loudly)."""
    try:
        from kit.pseudonym import Pseudonymiser
        from services.ad_triage.domain.batch import batch_features
        from services.ad_triage.domain.record_lines import parse_jsonl
        from services.ad_triage.domain.ruleset import ruleset_version
        from services.ad_triage.domain.scoring import score
        from services.ad_triage.domain.stored import to_stored
    except ImportError as exc:
        print(f"ad_triage: the in-process domain pipeline is left out: {exc}", flush=True)
        return None
    pseudonymise = Pseudonymiser(b"b" * 32).for_purpose("ad-linkage")
    ruleset = ruleset_version()
    start = time.perf_counter()
    stored = [to_stored(ad, pseudonymise) for _, ad in parse_jsonl(lines)]
    features, _ = batch_features(stored)
    for ad in stored:
        score(ad, features[ad.key], ruleset, text_is_masked=True)
    return len(stored) / (time.perf_counter() - start)


FLOOR_SAMPLE = 10_000


def write_floor(platform, lines: list[str], chunk: int) -> tuple[float, int]:
    """Ads per second of the part of an ingest no design of clusters, queue or events can leave out, on the same
    server in the same run: parsing, pseudonymising and masking the lines (in process), then per chunk, in one
    transaction, reading the ads' link keys by ``_id`` and writing the ads and their link keys (as the ingest
    stored them: the first ``len(lines)`` stored ads, copied into a scratch database). Returns (rate, ads)."""
    pseudonymise = Pseudonymiser(b"f" * 32).for_purpose("ad-linkage")
    started = time.perf_counter()
    for start in range(0, len(lines), chunk):
        split_lines(lines[start:start + chunk], "jsonl", pseudonymise, "floor", "import", datetime.now(timezone.utc),
                    timedelta(seconds=300))
    parsing = time.perf_counter() - started

    settings = platform.settings("ad_triage")
    client = connect(settings)
    try:
        ads = list(client[settings.database]["ads"].find({}).limit(len(lines)))
        scratch = client[f"{settings.database}_floor"]
        written = 0.0
        for start in range(0, len(ads), chunk):
            docs = ads[start:start + chunk]
            keys = sorted({CONTACT + c for d in docs for c in d["link"]["pseudonyms"]} |
                          {IMAGE + h for d in docs for h in d["link"]["images"]} |
                          {b for d in docs for b in bands(decode(d.get("signature")))})

            def work(session, docs=docs, keys=keys):
                list(scratch["links"].find({"_id": {"$in": keys}}, session=session))
                scratch["ads"].bulk_write([ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in docs],
                                          ordered=True, session=session)
                scratch["links"].bulk_write([ReplaceOne({"_id": k}, {"_id": k, "cluster_id": docs[0]["cluster_id"],
                                                                      "ads": [docs[0]["_id"]]}, upsert=True)
                                             for k in keys], ordered=False, session=session)
            began = time.perf_counter()
            in_transaction(client, work)
            written += time.perf_counter() - began
        client.drop_database(scratch.name)
    finally:
        client.close()
    return len(ads) / (parsing + written), len(ads)


def domain_entry_name(count: int) -> str:
    return ("ad_triage.domain_pipeline_in_process" if count <= DOMAIN_SAMPLE else
            f"ad_triage.domain_pipeline_in_process_{triage_queue.size_label(DOMAIN_SAMPLE)}_sample")


def entry_names(count: int, readers: tuple[int, ...] = triage_queue.READERS) -> list[str]:
    """Every entry ``run`` reports for ``count`` ads, in order."""
    queue = [name for size in stage_sizes(count) for name in triage_queue.names(size, readers)]
    return (["ad_triage.ingest_to_flagged_event"] + queue +
            ["ad_triage.service_rss_after_ingest", "ad_triage.rescore_all_ads", domain_entry_name(count),
             "ad_triage.ingest_write_floor"])


def run(platform, count: int, chunk: int, seed: int, readers: tuple[int, ...] = triage_queue.READERS,
        calls: int = triage_queue.CALLS_PER_READER) -> list[dict]:
    log = Progress()
    log(f"generating {count:,} ads (seed {seed})")
    buffer = io.StringIO()
    write_jsonl(generate(count, seed), buffer)
    lines = buffer.getvalue().splitlines()
    payloads = [line.encode("utf-8") for line in lines]  # the baseline moves the same bytes as the import
    log(f"raw baseline: producing and consuming {len(payloads):,} messages on the broker")
    baseline = raw_produce_consume(platform, payloads)
    log(f"raw baseline: {baseline:,.0f} messages/s")
    service = platform.service("ad_triage")
    platform.relay("ad_triage")
    platform.gateway()
    process = psutil.Process(service.popen.pid)
    idle_rss = process.memory_info().rss / MIB

    ingestion, queue_entries, done = Ingestion(platform, chunk, log), [], 0
    try:
        for size in stage_sizes(count):
            log(f"ingesting ads {done + 1:,} to {size:,}")
            ingestion.stage(lines[done:size], done + 1)
            done = size
            log(f"queue page at {size:,} ads: readers {', '.join(map(str, readers))}, {calls} calls each")
            queue_entries += triage_queue.measure(platform, size, readers, calls, log=log)
    finally:
        ingestion.close()
    rate = count / ingestion.seconds
    rss = process.memory_info().rss / MIB
    totals = ingestion.totals
    log(f"ingested {count:,} ads in {ingestion.seconds:.1f} s: {rate:,.0f} ads/s ({rate / baseline:.2f} of raw); "
        f"{totals}; {ingestion.flagged_read:,} flagged events; service RSS {rss:.0f} MiB (idle {idle_rss:.0f})")

    entries = [entry("ad_triage.ingest_to_flagged_event", rate, "ads/s", baseline), *queue_entries,
               entry("ad_triage.service_rss_after_ingest", rss, "MiB", idle_rss)]
    stored = totals["accepted"]  # new ads; an update or an unchanged one is an ad already stored
    try:
        seconds, _, _ = rescore(platform, stored, log, timeout=max(1800.0, count * 0.02))
    except Exception as exc:
        raise Incomplete(entries, "the rescore") from exc
    entries.append(entry("ad_triage.rescore_all_ads", stored / seconds, "ads/s", None))
    sample = lines[:DOMAIN_SAMPLE]
    log(f"domain pipeline in process over {len(sample):,} ads")
    try:
        domain = domain_pipeline(sample)
    except Exception as exc:
        raise Incomplete(entries, "the in-process domain pipeline") from exc
    if domain is not None:
        entries.append(entry(domain_entry_name(count), domain, "ads/s", None))
    log(f"write floor: parsing {min(count, FLOOR_SAMPLE):,} ads and writing them with their link keys")
    try:
        floor, sampled = write_floor(platform, lines[:FLOOR_SAMPLE], chunk)
    except Exception as exc:
        raise Incomplete(entries, "the write floor") from exc
    log(f"write floor: {floor:,.0f} ads/s over {sampled:,} ads ({floor / baseline:.2f} of raw)")
    entries.append(entry("ad_triage.ingest_write_floor", floor, "ads/s", baseline))
    log("done")
    return entries
