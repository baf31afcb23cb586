"""Scoring of ads in their clusters, and the events a changed score raises. Shared by ingestion and rescoring.

Network features (cluster size, contact spread) depend on the other ads in a cluster, so whenever a cluster
changes every member is scored again; the score is then a function of the stored ads and the rule set only,
which is what makes a rescore reproducible.
"""
from __future__ import annotations

from dataclasses import dataclass

from services.ad_triage.codec import key_string, score_doc
from services.ad_triage.domain.clusters import ClusterSummary
from services.ad_triage.domain.features import compute_features
from services.ad_triage.domain.places import canonical_city
from services.ad_triage.domain.records import AdKey
from services.ad_triage.domain.ruleset import PRIORITIES, RuleSet
from services.ad_triage.domain.scoring import score
from services.ad_triage.domain.stored import StoredAd
from services.ad_triage.domain.triage import is_flagged
from services.ad_triage.network import Network

FLAGGED, PRIORITY_CHANGED = "ad_triage.ad.flagged", "ad_triage.ad.priority_changed"


@dataclass
class Outcome:
    key: AdKey
    cluster_id: str
    cluster_size: int
    score: dict
    flagged_versions: list[str]
    events: list[tuple[str, dict]]


def cluster_doc(summary: ClusterSummary) -> dict:
    spread = [{"pseudonym": p, "cities": n} for p, n in summary.contact_spread]
    return {"_id": summary.cluster_id, "ad_count": summary.ad_count, "cities": list(summary.cities),
            "platforms": list(summary.platforms), "first_seen": summary.first_seen,
            "last_seen": summary.last_seen, "contact_spread": spread,
            "max_contact_spread": max((s["cities"] for s in spread), default=0)}


def _at_or_above(priority: str | None, level: str) -> bool:
    return priority in PRIORITIES and PRIORITIES.index(priority) <= PRIORITIES.index(level)


def assess(network: Network, clusters: dict[str, tuple[AdKey, ...]], ads: dict[AdKey, StoredAd],
           previous: dict[AdKey, dict], ruleset: RuleSet, cause: str, changed_by_input: set[AdKey] = frozenset()):
    """Score every member of ``clusters``; returns (outcomes, cluster docs).

    ``previous`` holds each member's stored document (or none for a new ad); events follow from comparing them:
    a priority change, and "flagged" when an ad first reaches the flag level under this rule-set version.
    """
    outcomes: list[Outcome] = []
    docs: list[dict] = []
    for cluster_id, members in clusters.items():
        summary = network.summary(cluster_id, members)
        docs.append(cluster_doc(summary))
        for key in members:
            ad, before = ads[key], previous.get(key) or {}
            new = score(ad, compute_features(ad, summary), ruleset, text_is_masked=True)
            old = before.get("score")
            flagged_versions = list(before.get("flagged_versions", ()))
            data = {"adKey": key_string(key), "clusterId": cluster_id, "score": new.value,
                    "priority": new.priority, "rulesetVersion": ruleset.version,
                    "city": canonical_city(ad.location) or None}
            events = []
            if old and old["priority"] != new.priority:
                events.append((PRIORITY_CHANGED, {**data, "previousPriority": old["priority"],
                                                  "previousRulesetVersion": old["ruleset_version"],
                                                  "cause": "updated" if key in changed_by_input else cause}))
            was_flagged = old is not None and _at_or_above(old["priority"], ruleset.flag_at)
            if is_flagged(new, ruleset) and not was_flagged and ruleset.version not in flagged_versions:
                events.append((FLAGGED, data))
                flagged_versions.append(ruleset.version)
            outcomes.append(Outcome(key, cluster_id, len(members), score_doc(new), flagged_versions, events))
    return outcomes, docs
