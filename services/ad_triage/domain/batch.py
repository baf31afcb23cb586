"""A whole batch of stored ads linked and scored in one pass: the reference the service's incremental, stored
clusters must agree with (tests), and the in-process rate the benchmark reports.

Linking here is the in-memory Linker over the same links the service stores: contact pseudonyms, image hashes and
near-duplicate text.
"""
from __future__ import annotations

from .clusters import ClusterSummary, summarise_cluster
from .features import compute_features
from .linking import Linker
from .records import AdKey
from .ruleset import RuleSet
from .scoring import Score, cluster_score, own_score
from .stored import StoredAd, key_string


def link_batch(stored: list[StoredAd]) -> Linker:
    linker = Linker()
    for ad in stored:
        links = [c.pseudonym for c in ad.contacts] + [f"image:{h}" for h in ad.image_hashes]
        linker.add(ad.key, links, ad.text)
    return linker


def batch_features(stored: list[StoredAd]) -> tuple[dict, dict[str, ClusterSummary]]:
    linker = link_batch(stored)
    by_key = {ad.key: ad for ad in stored}
    summaries = {cid: summarise_cluster(cid, [by_key[k].as_linked() for k in members])
                 for cid, members in linker.clusters().items()}
    features = {ad.key: compute_features(ad, summaries[linker.cluster_of(ad.key)]) for ad in stored}
    return features, summaries


def batch_scores(stored: list[StoredAd], ruleset: RuleSet) -> tuple[dict[AdKey, Score], dict[str, Score],
                                                                    dict[str, tuple[AdKey, ...]]]:
    """(each ad's own score, each cluster's score, each cluster's members): the cluster's score is its best ad's own
    score (highest, then most recent, then smallest key) plus the network indicators on its size and widest contact
    spread."""
    linker = link_batch(stored)
    by_key = {ad.key: ad for ad in stored}
    own = {ad.key: own_score(ad, ruleset) for ad in stored}
    scores = {}
    clusters = linker.clusters()
    for cid, members in clusters.items():
        summary = summarise_cluster(cid, [by_key[k].as_linked() for k in members])
        best = min(members, key=lambda k: (-own[k].value_milli, -by_key[k].last_seen.timestamp(), key_string(k)))
        spread = max((n for _, n in summary.contact_spread), default=0)
        scores[cid] = cluster_score(own[best], {"cluster_size": float(summary.ad_count),
                                                "contact_city_spread": float(spread)}, ruleset)
    return own, scores, clusters
