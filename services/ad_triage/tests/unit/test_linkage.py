"""The incremental linkage planner against the one-pass reference: batches in any order, and merges and renames, give
the clusters (members and ids) the Linker gives for the same ads."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from services.ad_triage.codec import merge_queue_docs
from services.ad_triage.domain.cluster_state import BestAd, ClusterState
from services.ad_triage.domain.linkage import CONTACT, LinkInput, Linkage
from services.ad_triage.domain.linking import Linker, cluster_id_for
from services.ad_triage.domain.text_signature import bands, signature

T0 = datetime(2016, 5, 1, tzinfo=timezone.utc)
TEXTS = [
    "Dejlig pige i byen. Rent og roligt sted tæt på stationen. Kom og nyd en skøn time med mig. Hilsen Mia",
    "Hello gentlemen. Slim sweet and always smiling. Clean and quiet place near the station. Love Lily",
    "New in town, sweet and discreet, call me for a relaxing massage, weekdays and weekends, kisses Nina",
]


class MemoryStore:
    """What the service stores between batches (links, clusters, candidates), kept in dicts."""

    def __init__(self) -> None:
        self.clusters: dict[str, ClusterState] = {}
        self.links: dict = {}
        self.ads: dict[str, tuple[str, tuple[int, ...] | None]] = {}  # ad id -> (cluster, signature)

    def ingest(self, ads: list[dict]) -> None:
        inputs = [link_input(ad, self.ads.get(ad["id"], (None,))[0]) for ad in ads]
        keys = {CONTACT + c for i in inputs for c in i.contacts} | {b for i in inputs for b in i.bands}
        links = {k: self.links[k] for k in keys if k in self.links}
        listed = {a for link in links.values() for a in link.ads}
        candidates = {a: self.ads[a] for a in listed if a in self.ads and self.ads[a][1] is not None}
        wanted = {link.cluster_id for link in links.values() if link.cluster_id}
        wanted |= {c for c, _ in candidates.values()} | {i.stored_cluster for i in inputs if i.stored_cluster}
        linkage = Linkage({c: self.clusters[c] for c in wanted}, links, candidates, merge_queue_docs)
        for i in inputs:
            linkage.add(i)
        plan = linkage.plan()
        for old, new in plan.renamed.items():  # what storage.relabel and write_clusters do
            self.clusters.pop(old, None)
            self.ads.update({a: (new, sig) for a, (c, sig) in self.ads.items() if c == old})
            for link in self.links.values():
                if link.cluster_id == old:
                    link.cluster_id = new
        self.clusters.update(plan.clusters)
        self.links.update({link.key: link for link in plan.links})
        for i in inputs:
            self.ads[i.ad_id] = (plan.ad_cluster[i.ad_id], i.signature)

    def partition(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for ad, (cluster, _) in self.ads.items():
            found.setdefault(cluster, []).append(ad)
        return {c: sorted(m) for c, m in found.items()}


def link_input(ad: dict, stored_cluster: str | None) -> LinkInput:
    sig = signature(ad["text"])
    return LinkInput(ad["id"], ("p.example", ad["id"].split("/")[1]), stored_cluster is None, stored_cluster,
                     "p.example", ad["city"], T0, T0 + timedelta(hours=ad["n"]), tuple(ad["contacts"]), (),
                     bands(sig), sig, BestAd(ad["id"], ad["score"], T0 + timedelta(hours=ad["n"]), "1.0.0"))


def reference(ads: list[dict]) -> dict[str, list[str]]:
    linker = Linker()
    for ad in ads:
        linker.add(("p.example", ad["id"].split("/")[1]), ad["contacts"], ad["text"])
    return {cid: sorted(f"{k[0]}/{k[1]}" for k in members) for cid, members in linker.clusters().items()}


ads_strategy = st.lists(
    st.tuples(st.lists(st.sampled_from([f"ph-{i}" for i in range(12)]), max_size=2),
              st.sampled_from([0, 1, 2, None]), st.sampled_from(["odense", "aarhus", "næstved"]),
              st.integers(0, 9000)),
    min_size=1, max_size=40)


def make_ads(rows) -> list[dict]:
    return [{"id": f"p.example/{n:03d}", "n": n, "contacts": contacts, "city": city, "score": score,
             "text": TEXTS[text] + f" {n}" if text is not None else f"short {n}"}
            for n, (contacts, text, city, score) in enumerate(rows)]


@settings(max_examples=60, deadline=None)
@given(ads_strategy, st.randoms(use_true_random=False), st.integers(1, 7))
def test_batches_in_any_order_give_the_reference_clusters(rows, rng, batch):
    ads = make_ads(rows)
    shuffled = list(ads)
    rng.shuffle(shuffled)
    store = MemoryStore()
    for start in range(0, len(shuffled), batch):
        store.ingest(shuffled[start:start + batch])
    assert store.partition() == reference(ads)
    for cluster_id, members in store.partition().items():
        state = store.clusters[cluster_id]
        assert state.size == len(members) and state.cluster_id == cluster_id == cluster_id_for(state.min_key)
        best = min((a for a in ads if a["id"] in members), key=lambda a: (-a["score"], -a["n"], a["id"]))
        assert state.best.ad_id == best["id"]


def test_a_contact_keeps_its_cities_and_the_cluster_its_widest_spread():
    store = MemoryStore()
    rows = [(["ph-1"], None, city, 1000) for city in ("odense", "aarhus", "odense", "næstved")]
    store.ingest(make_ads(rows)[:2])
    store.ingest(make_ads(rows)[2:])
    (state,) = store.clusters.values()
    assert (state.size, state.contacts, state.max_spread, state.cities) == (4, 1, 3, {"odense", "aarhus", "næstved"})


def test_a_merge_keeps_the_flags_and_queue_of_both_and_is_named_by_the_smallest_key():
    store = MemoryStore()
    ads = make_ads([(["ph-1"], None, "odense", 1000), (["ph-2"], None, "aarhus", 2000), (["ph-1", "ph-2"], None,
                                                                                        "odense", 500)])
    store.ingest([ads[1]])
    store.ingest([ads[0]])
    first, second = sorted(store.clusters)
    store.clusters[first].flagged_versions = ["1.0.0"]
    store.clusters[second].queue = {"state": "assigned", "assignee": "w-1", "version": 1, "history": [
        {"from_state": "new", "to_state": "assigned", "actor": "w-1", "at": T0, "reason": "take"}]}
    store.ingest([ads[2]])
    (state,) = store.clusters.values()
    assert state.cluster_id == cluster_id_for(("p.example", "000")) and state.size == 3
    assert state.flagged_versions == ["1.0.0"] and state.queue["state"] == "assigned"
    assert state.best.ad_id == "p.example/001"


def test_the_best_ad_is_found_again_when_it_drops():
    ads = make_ads([(["ph-1"], None, "odense", 3000), (["ph-1"], None, "odense", 1000)])
    store = MemoryStore()
    store.ingest(ads)
    lowered = {**ads[0], "score": 10}
    inputs = link_input(lowered, store.ads[lowered["id"]][0])
    linkage = Linkage(dict(store.clusters), dict(store.links), {}, merge_queue_docs)
    linkage.add(inputs)
    assert linkage.plan().rescan_best == {next(iter(store.clusters))}


def test_a_large_file_in_random_batches_matches_the_reference():
    rng = random.Random(5)
    rows = [([f"ph-{rng.randrange(300)}"] if rng.random() < 0.7 else [], rng.choice([0, 1, 2, None]),
             rng.choice(["odense", "aarhus"]), rng.randrange(9000)) for _ in range(600)]
    ads = make_ads(rows)
    rng.shuffle(ads)
    store = MemoryStore()
    for start in range(0, len(ads), 50):
        store.ingest(ads[start:start + 50])
    assert store.partition() == reference(ads)


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet=st.sampled_from("abc def ghi jkl æøå █ 12"), min_size=0, max_size=200))
def test_the_stored_signature_is_datasketchs_minhash(text):
    from datasketch import MinHash
    from services.ad_triage.domain.text_signature import MIN_SHINGLES, word_shingles
    shingles = word_shingles(text)
    if len(shingles) < MIN_SHINGLES:
        assert signature(text) is None
        return
    reference = MinHash(num_perm=64, seed=1)
    reference.update_batch(sorted(s.encode() for s in shingles))
    assert signature(text) == tuple(int(v) for v in reference.hashvalues)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**32 - 1), min_size=64, max_size=64))
def test_a_stored_signature_reads_back_as_written(values):
    from services.ad_triage.domain.text_signature import decode, encode
    sig = tuple(values)
    assert decode(encode(sig)) == sig
    assert decode(encode(None)) is None and decode("") is None
