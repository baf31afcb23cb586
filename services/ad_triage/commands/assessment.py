"""Assessment: scoring ads in their clusters and the events a changed score raises. Shared by ingestion and rescoring.

Network features (cluster size, contact spread) depend on the other ads in a cluster, so whenever a cluster
changes every member is scored again; the score is then a function of the stored ads and the rule set only,
which is what makes a rescore reproducible.
"""
from __future__ import annotations

from dataclasses import dataclass

from services.ad_triage.codec import cluster_doc, score_doc
from services.ad_triage.domain.events import score_events
from services.ad_triage.domain.features import compute_features
from services.ad_triage.domain.network import Network
from services.ad_triage.domain.records import AdKey
from services.ad_triage.domain.ruleset import RuleSet
from services.ad_triage.domain.scoring import score
from services.ad_triage.domain.stored import StoredAd, key_string

STATE_FIELDS = ("cluster_id", "cluster_size", "score", "flagged_versions")


@dataclass
class Outcome:
    key: AdKey
    cluster_id: str
    cluster_size: int
    score: dict
    flagged_versions: list[str]
    events: list[tuple[str, dict]]

    @property
    def state(self) -> dict:
        """The fields assessment stores on the ad."""
        return {"cluster_id": self.cluster_id, "cluster_size": self.cluster_size, "score": self.score,
                "flagged_versions": self.flagged_versions}

    def differs_from(self, doc: dict) -> bool:
        state = self.state
        return any(doc.get(k) != state[k] for k in STATE_FIELDS)


@dataclass
class Assessment:
    outcomes: list[Outcome]
    cluster_docs: list[dict]

    def events(self) -> list[tuple[str, str, dict]]:
        """(type, subject, data) of every event, ready for the outbox."""
        return [(t, key_string(o.key), data) for o in self.outcomes for t, data in o.events]

    def count(self, event_type: str) -> int:
        return sum(t == event_type for o in self.outcomes for t, _ in o.events)


def stale_clusters(clusters: dict[str, tuple[AdKey, ...]], stored: dict[str, dict]) -> set[str]:
    """Stored cluster ids of these members that no longer exist (absorbed by a merge): their documents go."""
    return {d["cluster_id"] for d in stored.values() if d and d.get("cluster_id")} - set(clusters)


def assess(network: Network, clusters: dict[str, tuple[AdKey, ...]], ads: dict[AdKey, StoredAd],
           previous: dict[AdKey, dict], ruleset: RuleSet, cause: str,
           changed_by_input: set[AdKey] = frozenset()) -> Assessment:
    """Score every member of ``clusters`` against its stored document in ``previous`` (none for a new ad)."""
    outcomes: list[Outcome] = []
    docs: list[dict] = []
    for cluster_id, members in clusters.items():
        summary = network.summary(cluster_id, members)
        docs.append(cluster_doc(summary))
        for key in members:
            ad, before = ads[key], previous.get(key) or {}
            new = score(ad, compute_features(ad, summary), ruleset, text_is_masked=True)
            events, flagged_versions = score_events(
                key, ad, cluster_id, new, before.get("score"), list(before.get("flagged_versions", ())), ruleset,
                "updated" if key in changed_by_input else cause)
            outcomes.append(Outcome(key, cluster_id, len(members), score_doc(new), flagged_versions, events))
    return Assessment(outcomes, docs)
