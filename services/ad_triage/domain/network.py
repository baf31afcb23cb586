"""The linking network: the Linker's clusters plus the facts cluster summaries are built from.

Linking is order-independent and only ever merges, and re-adding an ad is harmless, so the network of a set of ads
is the same however they are added: a rebuild from the stored ads, a catch-up that re-adds the ads changed since,
or the one-pass reference (batch.batch_features) all give the same clusters. What linking needs beyond the current
ad (every contact pseudonym it ever had, the text of its first signature) is stored with the ad.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable

from .clusters import ClusterSummary, LinkedAd, summarise_cluster
from .linking import Linker
from .records import AdKey


class Network:
    def __init__(self, threshold: float = 0.7) -> None:
        self.linker = Linker(threshold)
        self.linked: dict[AdKey, LinkedAd] = {}

    def __len__(self) -> int:
        return len(self.linked)

    def add(self, ad: LinkedAd, link_pseudonyms: Iterable[str], link_text: str) -> None:
        self.linker.add(ad.key, link_pseudonyms, link_text)
        self.linked[ad.key] = ad

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

    def all_clusters(self) -> dict[str, tuple[AdKey, ...]]:
        return self.linker.clusters()

    def digest(self) -> str:
        return clusters_digest(self.all_clusters())


def clusters_digest(clusters: dict[str, Iterable[AdKey]]) -> str:
    """A short fingerprint of a clustering (ids and members), to compare processes without shipping it whole."""
    h = hashlib.sha256()
    for cluster_id in sorted(clusters):
        h.update(cluster_id.encode())
        for platform, ad_id in sorted(tuple(k) for k in clusters[cluster_id]):
            h.update(f"\x1e{platform}\x1f{ad_id}".encode())
        h.update(b"\x1d")
    return h.hexdigest()[:32]
