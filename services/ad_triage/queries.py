"""Read side: the triage queue in its order, an ad with its explanation, clusters, the quarantine, rule sets."""
from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from services.ad_triage import inputs, rulesets
from services.ad_triage.storage import AdTriageStore
from services.ad_triage.triage_commands import UnknownAd
from services.ad_triage.views import ad_view, cluster_view, quarantine_view, queue_entry_view

# highest score, then most recently seen, then largest cluster (domain triage.queue_order_key); the key ends ties
QUEUE_ORDER = [("score.value_milli", DESCENDING), ("last_seen", DESCENDING), ("cluster_size", DESCENDING),
               ("_id", ASCENDING)]
# whole sub-documents: the MongoDB-wire server used locally ignores dotted projections
LIST_FIELDS = {"platform": 1, "title": 1, "city": 1, "score": 1, "last_seen": 1, "cluster_id": 1,
               "cluster_size": 1, "queue": 1}


class UnknownCluster(ValueError):
    code = "unknown_cluster"
    field = "cluster_id"


class TriageQueries:
    def __init__(self, store: AdTriageStore) -> None:
        self.store = store

    def queue(self, *, state=None, priority=None, limit=50, offset=0) -> dict:
        """Items at priority low or above (the rest scored "none"), filtered by state and priority."""
        state, priority = inputs.state(state), inputs.priority(priority)
        limit = inputs.positive_int(limit, "limit", 50, inputs.MAX_PAGE)
        offset = inputs.positive_int(offset, "offset", 0)
        query: dict = {"score.priority": priority if priority else {"$in": ["high", "medium", "low"]}}
        if state:
            query["queue.state"] = state
        total, docs = self.store.find_ads(query, QUEUE_ORDER, offset, limit, LIST_FIELDS)
        return {"total": total, "offset": offset, "items": [queue_entry_view(d) for d in docs]}

    def ad(self, *, ad_key) -> dict:
        ad_id = inputs.ad_key(ad_key)
        doc = self.store.ad(ad_id, {"link": 0})
        if doc is None:
            raise UnknownAd(f"no ad {ad_id!r}")
        return ad_view(doc)

    def cluster(self, *, cluster_id) -> dict:
        cid = inputs.text(cluster_id, "cluster_id", 40)
        doc = self.store.cluster(cid)
        if doc is None:
            raise UnknownCluster(f"no cluster {cid!r}")
        return cluster_view(doc, self.store.cluster_members(cid, LIST_FIELDS))

    def quarantine(self, *, status="open", limit=50, offset=0) -> dict:
        status = inputs.optional_choice(status, "status", ("open", "resubmitted"))
        limit = inputs.positive_int(limit, "limit", 50, inputs.MAX_PAGE)
        offset = inputs.positive_int(offset, "offset", 0)
        total, docs = self.store.list_quarantined(status, offset, limit)
        return {"total": total, "offset": offset, "items": [quarantine_view(d) for d in docs]}

    def rulesets(self) -> dict:
        return {"active": self.store.active_ruleset(), "available": rulesets.available()}
