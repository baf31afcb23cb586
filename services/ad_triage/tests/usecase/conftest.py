"""Use-case tests: the real AdTriageStore on an in-memory MongoDB (mongomock, all-or-nothing transactions)."""
from __future__ import annotations

import io

import pytest

from kit.outbox import Outbox
from services.ad_triage.commands.sources import Sources
from services.ad_triage.storage import AdTriageStore
from services.ad_triage.tools.generate_ads import generate, write_jsonl
from tests.support.memory_store import in_memory, make_store


@pytest.fixture
def store():
    return make_store(AdTriageStore, "ad_triage")


def another_instance(store: AdTriageStore) -> AdTriageStore:
    """A second process of the service on the same database: its own store."""
    other = in_memory(AdTriageStore)(store.client, store.db, Outbox(store.db, store.settings), store.settings)
    other.setup()
    return other


def lines(count: int, seed: int, id_prefix: str = "", malformed: int = 0) -> list[str]:
    records = generate(count, seed, malformed)
    for record in records:
        if record is not None and "adId" in record:
            record["adId"] = id_prefix + record["adId"]
    out = io.StringIO()
    write_jsonl(records, out)
    return out.getvalue().splitlines()


def import_lines(store, batch: list[str], request_id: str | None = None) -> dict:
    return Sources(store).import_batch(batch, "jsonl", "importer-1", request_id, 1, "import")


def reference_clusters(store, *batches: list[str]) -> dict[str, list[str]]:
    """The one-pass reference (linking.Linker) over every ad of the batches: cluster id -> member ad keys."""
    from services.ad_triage.domain.linking import Linker
    from services.ad_triage.domain.record_lines import parse_jsonl
    from services.ad_triage.domain.stored import key_string, to_stored
    linker = Linker()
    for batch in batches:
        for _, ad in parse_jsonl(batch):
            stored = to_stored(ad, store.pseudonymise)
            links = [c.pseudonym for c in stored.contacts] + [f"image:{h}" for h in stored.image_hashes]
            linker.add(stored.key, links, stored.text)
    return {cid: sorted(key_string(k) for k in members) for cid, members in linker.clusters().items()}


def stored_clusters(store) -> dict[str, list[str]]:
    """Cluster id -> member ad keys as stored, after checking each cluster document agrees with its members."""
    members = store.all_clusters()
    docs = {d["_id"]: d for d in store.db.clusters.find({})}
    assert set(docs) == set(members), "a cluster document without members, or members without one"
    assert {cid: d["ad_count"] for cid, d in docs.items()} == {cid: len(m) for cid, m in members.items()}
    # a text candidate is read from its signature document: it names the ad's cluster, for every ad with a signature
    signed = {d["_id"]: d["cluster_id"] for d in store.db.ads.find({"signature": {"$ne": None}})}
    assert {d["_id"]: d["cluster_id"] for d in store.db.signatures.find({})} == signed
    return members


def assert_clusters_equal_reference(store, *batches: list[str]) -> None:
    assert stored_clusters(store) == reference_clusters(store, *batches)
