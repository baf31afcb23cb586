"""Summaries of ad clusters: the facts a reviewer needs to judge whether a cluster looks like a network.

Summaries hold pseudonyms only. "Spread" counts the distinct cities a contact pseudonym appears in, the signal
REFERENCE.md lists as "one phone number across many ads or cities" (a hypothesis, not a validated predictor).
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .places import canonical_city
from .records import AdKey


@dataclass(frozen=True)
class LinkedAd:
    """The non-identifying facts about one ad that a cluster summary is built from."""

    key: AdKey
    city: str
    platform: str
    first_seen: datetime
    last_seen: datetime
    contact_pseudonyms: tuple[str, ...]


@dataclass(frozen=True)
class ClusterSummary:
    cluster_id: str
    ad_count: int
    cities: tuple[str, ...]
    platforms: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
    contact_spread: tuple[tuple[str, int], ...]  # (pseudonym, distinct cities), sorted by pseudonym

    def spread_of(self, pseudonym: str) -> int:
        return dict(self.contact_spread).get(pseudonym, 0)

    def max_spread(self, pseudonyms: Iterable[str]) -> int:
        spread = dict(self.contact_spread)
        return max((spread.get(p, 0) for p in pseudonyms), default=0)


def summarise_cluster(cluster_id: str, ads: Iterable[LinkedAd]) -> ClusterSummary:
    """Summarise the member ads of one cluster; raises ValueError for an empty cluster."""
    members = sorted(ads, key=lambda ad: ad.key)
    if not members:
        raise ValueError(f"cluster {cluster_id}: no ads to summarise")
    cities_by_contact: dict[str, set[str]] = {}
    for ad in members:
        for pseudonym in ad.contact_pseudonyms:
            cities_by_contact.setdefault(pseudonym, set()).add(canonical_city(ad.city))
    return ClusterSummary(
        cluster_id=cluster_id,
        ad_count=len({ad.key for ad in members}),
        cities=tuple(sorted({canonical_city(ad.city) for ad in members})),
        platforms=tuple(sorted({ad.platform for ad in members})),
        first_seen=min(ad.first_seen for ad in members),
        last_seen=max(ad.last_seen for ad in members),
        contact_spread=tuple(sorted((p, len(c)) for p, c in cities_by_contact.items())),
    )


def clusters_digest(clusters: dict[str, Iterable[str]]) -> str:
    """A short fingerprint of a clustering (ids and member ad keys), to compare runs and instances without shipping
    the clustering whole."""
    h = hashlib.sha256()
    for cluster_id in sorted(clusters):
        h.update(cluster_id.encode())
        for member in sorted(clusters[cluster_id]):
            h.update(f"\x1e{member}".encode())
        h.update(b"\x1d")
    return h.hexdigest()[:32]
