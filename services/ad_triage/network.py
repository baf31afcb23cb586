"""The service's in-memory linking state: the domain Linker plus the facts cluster summaries are built from.

It lives for the life of the process and is rebuilt from the stored ads at start (linking is order-independent,
so re-adding every ad gives the same clusters). What linking needs beyond the current ad is persisted with the
ad: every contact pseudonym it ever had and the text its first signature was made from.
"""
from __future__ import annotations

from collections.abc import Iterable

from services.ad_triage.codec import utc
from services.ad_triage.domain.clusters import ClusterSummary, LinkedAd, summarise_cluster
from services.ad_triage.domain.linking import Linker
from services.ad_triage.domain.records import AdKey
from services.ad_triage.domain.stored import StoredAd

REBUILD_FIELDS = {"platform": 1, "ad_id": 1, "location": 1, "first_seen": 1, "last_seen": 1, "contacts": 1,
                  "text": 1, "link": 1, "cluster_id": 1}


class Network:
    def __init__(self, threshold: float = 0.7) -> None:
        self.linker = Linker(threshold)
        self.linked: dict[AdKey, LinkedAd] = {}
        self.persisted_cluster: dict[AdKey, str] = {}  # cluster id as last written to MongoDB

    def __len__(self) -> int:
        return len(self.linked)

    def add(self, ad: StoredAd, link_pseudonyms: Iterable[str], link_text: str) -> None:
        self.linker.add(ad.key, link_pseudonyms, link_text)
        self.linked[ad.key] = ad.as_linked()

    def rebuild(self, docs: Iterable[dict]) -> None:
        """Re-add stored ads (projected with REBUILD_FIELDS)."""
        for doc in docs:
            key = (doc["platform"], doc["ad_id"])
            link = doc.get("link") or {}
            pseudonyms = link.get("pseudonyms") or [c["pseudonym"] for c in doc["contacts"]]
            self.linker.add(key, pseudonyms, link.get("text") or doc["text"])
            self.linked[key] = LinkedAd(key, doc["location"], doc["platform"], utc(doc["first_seen"]),
                                        utc(doc["last_seen"]), tuple(c["pseudonym"] for c in doc["contacts"]))
            if doc.get("cluster_id"):
                self.persisted_cluster[key] = doc["cluster_id"]

    def cluster_of(self, key: AdKey) -> str:
        return self.linker.cluster_of(key)

    def affected(self, keys: Iterable[AdKey]) -> dict[str, tuple[AdKey, ...]]:
        """Current clusters (id -> members) that hold any of ``keys``."""
        found: dict[str, tuple[AdKey, ...]] = {}
        for key in keys:
            cluster_id = self.linker.cluster_of(key)
            if cluster_id not in found:
                found[cluster_id] = self.linker.members_of(key)
        return found

    def summary(self, cluster_id: str, members: Iterable[AdKey]) -> ClusterSummary:
        return summarise_cluster(cluster_id, [self.linked[k] for k in members])

    def stale_clusters(self, clusters: dict[str, tuple[AdKey, ...]]) -> set[str]:
        """Persisted cluster ids of these members that no longer exist (absorbed by a merge)."""
        old = {self.persisted_cluster[k] for members in clusters.values() for k in members
               if k in self.persisted_cluster}
        return old - set(clusters)

    def mark_persisted(self, clusters: dict[str, tuple[AdKey, ...]]) -> None:
        for cluster_id, members in clusters.items():
            for key in members:
                self.persisted_cluster[key] = cluster_id

    def all_clusters(self) -> dict[str, tuple[AdKey, ...]]:
        return self.linker.clusters()
