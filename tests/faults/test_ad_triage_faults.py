"""Ad triage fault scenario: two instances ingest one file at once while one ingest aborts after linking.

Linking state lives in the database, updated in each batch's transaction. Afterwards the clusters stored, their
sizes and their scores must be the ones a single pass over the same file computes (domain/batch.py batch_scores
and the Linker it uses), and both instances must answer with the same clusters: nothing lost, nothing ingested
twice, no phantom ads, no cluster left half-written by the aborted batch.
"""
from __future__ import annotations

import base64
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from nameko.exceptions import RemoteError, RpcTimeout
from pymongo import MongoClient

from kit.pseudonym import Pseudonymiser
from services.ad_triage.commands.ingestion import FAULT_ENV
from services.ad_triage.domain.batch import batch_scores
from services.ad_triage.domain.clusters import clusters_digest
from services.ad_triage.domain.ruleset import ruleset_version
from services.ad_triage.domain.record_lines import parse_jsonl
from services.ad_triage.domain.stored import key_string, to_stored
from services.ad_triage.tests.service.helpers import generated_lines
from tests.faults.support import report
from tests.support.platform import TEST_KEY, running
from tests.support.rpc import rpc_as
from tests.support.waiting import eventually

pytestmark = pytest.mark.stack

ADS, CHUNK, SENDERS = 1200, 50, 4


@pytest.fixture(scope="module")
def two_instances(infra, otlp, tmp_path_factory):
    marker = tmp_path_factory.mktemp("fault") / "ingest-aborted"
    env = {FAULT_ENV: str(marker), "AD_TRIAGE_RULESET_VERSION": "1.0.0"}
    with running(infra, otlp, "f", {"ad_triage": env}, gateway=False) as platform:
        platform.service("ad_triage", **env)  # the second instance: same queue, same database
        client = MongoClient(platform.env["MONGO_URI"], tz_aware=True)
        try:
            yield platform, client[platform.settings("ad_triage").database], marker
        finally:
            client.close()


def send(platform, chunks: list[tuple[int, list[str]]], failures: list[str]) -> None:
    """Import chunks over RPC; a chunk that fails (the injected abort) is retried with the same request id."""
    with rpc_as(platform, "ingest_connector", timeout=120) as rpc:
        for index, chunk in chunks:
            for attempt in range(3):
                try:
                    rpc.ad_triage.import_batch(lines=chunk, format="jsonl", actor="importer-1",
                                               request_id=f"fault-chunk-{index:04d}", first_line=index * CHUNK + 1)
                    break
                except (RemoteError, RpcTimeout) as exc:
                    failures.append(getattr(exc, "exc_type", type(exc).__name__))
                    if attempt == 2:
                        raise


def linking_of_each_instance(platform, want: int = 2, calls: int = 40) -> dict[str, dict]:
    """The linking RPC answered by every instance (calls are spread over the instances by the broker)."""
    seen: dict[str, dict] = {}
    lock = threading.Lock()

    def ask(_):
        with rpc_as(platform, "operator", timeout=60) as rpc:
            answer = rpc.ad_triage.linking()
        with lock:
            seen.setdefault(answer["instance"], answer)
    with ThreadPoolExecutor(8) as pool:
        for start in range(0, calls, 8):
            list(pool.map(ask, range(8)))
            if len(seen) >= want:
                break
    return seen


def test_two_instances_and_an_aborted_ingest_link_as_one_pass_over_the_file(two_instances):
    platform, db, marker = two_instances
    eventually(lambda: len(linking_of_each_instance(platform, calls=16)) == 2, 90, 0.5,
               "both instances consuming the RPC queue")
    lines = generated_lines(ADS, seed=57)
    chunks = [(i, lines[i * CHUNK:(i + 1) * CHUNK]) for i in range(len(lines) // CHUNK)]
    failures: list[str] = []
    with ThreadPoolExecutor(SENDERS) as pool:
        list(pool.map(lambda n: send(platform, chunks[n::SENDERS], failures), range(SENDERS)))
    assert marker.exists() and "RuntimeError" in failures, f"the injected abort did not happen: {failures}"

    # the reference: the same file linked and scored in one pass by the domain alone, with the platform's key
    pseudonymise = Pseudonymiser(base64.b64decode(TEST_KEY)).for_purpose("ad-linkage")
    stored_ads = [to_stored(ad, pseudonymise) for _, ad in parse_jsonl(lines)]
    _, cluster_scores, members = batch_scores(stored_ads, ruleset_version("1.0.0"))
    reference = {cid: sorted(key_string(k) for k in keys) for cid, keys in members.items()}
    sent = {key_string(ad.key) for ad in stored_ads}

    # a redelivered request (same request id) is offered again: its records must be recognised, not stored twice
    with rpc_as(platform, "ingest_connector", timeout=120) as rpc:
        suppressed = sum(rpc.ad_triage.import_batch(lines=chunk, format="jsonl", actor="importer-1",
                                                    request_id=f"fault-chunk-{index:04d}",
                                                    first_line=index * CHUNK + 1)["unchanged"]
                         for index, chunk in chunks[:2])

    docs = list(db.ads.find({}, {"cluster_id": 1, "sightings": 1}))
    stored = {d["_id"] for d in docs}
    repeated_sightings = sum(len(d["sightings"]) - 1 for d in docs)
    instances = linking_of_each_instance(platform)
    report("ad_triage: two instances ingest one file at once, one ingest aborts after linking",
           sent=len(sent), received=len(stored & sent), duplicates=suppressed, lost=len(sent - stored),
           aborted_calls=failures.count("RuntimeError"), stored_twice=repeated_sightings,
           clusters=len(reference))
    assert stored == sent and repeated_sightings == 0 and suppressed == 2 * CHUNK

    found: dict[str, list[str]] = {}
    for doc in docs:
        found.setdefault(doc["cluster_id"], []).append(doc["_id"])
    assert {cid: sorted(m) for cid, m in found.items()} == reference
    clusters = {c["_id"]: c for c in db.clusters.find()}
    assert {cid: c["ad_count"] for cid, c in clusters.items()} == {cid: len(m) for cid, m in reference.items()}
    assert {cid: (c["score"]["value_milli"], c["score"]["priority"]) for cid, c in clusters.items()} == {
        cid: (s.value_milli, s.priority) for cid, s in cluster_scores.items()}
    queued = {cid for cid, s in cluster_scores.items() if s.priority != "none"}
    assert sorted(r["cluster_id"] for r in db.queue_any_any.find()) == sorted(queued)  # one row each, no orphan

    assert len(instances) == 2, f"only {list(instances)} answered"
    for answer in instances.values():
        assert (answer["ads_linked"], answer["digest"]) == (len(sent), clusters_digest(reference)), answer

    # scores were kept with the clusters: a rescore (by whichever instance) has nothing to change
    with rpc_as(platform, "operator", timeout=120) as rpc:
        again = rpc.ad_triage.rescore(actor="lead-1")
    assert (again["rescored"], again["changed"], again["flagged"], again["done"]) == (len(sent), 0, 0, True)
