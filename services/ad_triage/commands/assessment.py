"""Assessment: a cluster's score from its best ad and its network signals, the events a changed score raises, and
the stored cluster with its queue rows. Shared by ingestion and rescoring.

An ad's own score depends on the ad alone, so adding an ad scores that ad only; the cluster's score is its best
ad's own score plus the network indicators on the cluster's size and contact spread, kept on the cluster. A score
is therefore a function of the stored ads and the rule set, which is what makes a rescore reproducible.
"""
from __future__ import annotations

from services.ad_triage.codec import cluster_doc, own_best, score_from_doc
from services.ad_triage.domain.cluster_state import BestAd, ClusterState
from services.ad_triage.domain.events import FLAGGED, cluster_events
from services.ad_triage.domain.linkage import Plan
from services.ad_triage.domain.ruleset import RuleSet
from services.ad_triage.domain.scoring import cluster_score
from services.ad_triage.domain.triage import QueueEntry, queue_position
from services.ad_triage.storage import AdTriageStore, views_of

BEST_FIELDS = {"score": 1, "last_seen": 1, "city": 1}


def best_of_members(store: AdTriageStore, session, cluster_id: str) -> BestAd | None:
    members = store.members(session, cluster_id, BEST_FIELDS)
    return min((own_best(m["_id"], m["score"], m["last_seen"], m.get("city")) for m in members if m.get("score")),
               key=BestAd.order, default=None)


def assessed(state: ClusterState, ruleset: RuleSet, cause: str, at) -> tuple[dict, list[tuple[str, str, dict]]]:
    """The cluster's document (score, queue position and views) and its events."""
    best = state.best
    if best is None or best.evidence is None:
        return cluster_doc(state, None, None, [], at), []
    network = {"cluster_size": float(state.size), "contact_city_spread": float(state.max_spread)}
    score = cluster_score(score_from_doc(best.evidence), network, ruleset)
    events, state.flagged_versions, state.announced = cluster_events(
        best.ad_id, best.city, state.cluster_id, score, state.previous, state.flagged_versions, state.announced,
        ruleset, cause)
    position = queue_position(QueueEntry(state.cluster_id, score.value_milli, state.last_seen, state.size))
    views = views_of((state.queue or {}).get("state", "new"), score.priority)
    return cluster_doc(state, score, position, views, at), events


class Settled:
    """The clusters a batch changed, stored, and the events they raise."""

    def __init__(self, events: list[tuple[str, str, dict]]) -> None:
        self.events = events

    def count(self, event_type: str) -> int:
        return sum(t == event_type for t, _, _ in self.events)

    @property
    def flagged(self) -> int:
        return self.count(FLAGGED)


def settle(store: AdTriageStore, session, plan: Plan, loaded: dict[str, dict], ruleset: RuleSet, cause: str,
           at) -> Settled:
    """Store the planned clusters (after the batch's ads and links are written) and stage their events."""
    for cluster_id in sorted(plan.rescan_best):
        plan.clusters[cluster_id].best = best_of_members(store, session, cluster_id)
    docs, events = [], []
    for cluster_id in sorted(plan.clusters):
        doc, raised = assessed(plan.clusters[cluster_id], ruleset, cause, at)
        docs.append(doc)
        events += raised
    removed = [doc for cid, doc in loaded.items() if cid in plan.renamed or cid in plan.clusters]
    store.write_clusters(session, docs, removed)
    store.emit_many(session, events)
    return Settled(events)
