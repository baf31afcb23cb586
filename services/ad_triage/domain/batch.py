"""A whole batch of stored ads linked in one pass: the features each is scored with, and the cluster summaries.

The service links incrementally as ads arrive; this one-pass form is the reference it must agree with (tests) and
the in-process rate the benchmark reports.
"""
from __future__ import annotations

from .clusters import ClusterSummary, summarise_cluster
from .features import compute_features
from .linking import Linker
from .stored import StoredAd


def batch_features(stored: list[StoredAd]) -> tuple[dict, dict[str, ClusterSummary]]:
    linker = Linker()
    for ad in stored:
        linker.add(ad.key, [c.pseudonym for c in ad.contacts], ad.text)
    by_key = {ad.key: ad for ad in stored}
    summaries = {cid: summarise_cluster(cid, [by_key[k].as_linked() for k in members])
                 for cid, members in linker.clusters().items()}
    features = {ad.key: compute_features(ad, summaries[linker.cluster_of(ad.key)]) for ad in stored}
    return features, summaries
