"""Read side: the triage queue in its order, an ad with its explanation, clusters, the quarantine, rule sets, the
outreach outcomes per rule-set version, and this process's linking state."""
from __future__ import annotations

from services.ad_triage import inputs
from services.ad_triage.domain.errors import UnknownAd, UnknownCluster
from services.ad_triage.domain.labels import outcomes_per_version
from services.ad_triage.domain.ruleset import available
from services.ad_triage.storage import AdTriageStore
from services.ad_triage.views import ad_view, cluster_view, outcomes_view, quarantine_view, queue_entry_view

QUEUED = ["high", "medium", "low"]  # the queue lists priority low or above; the rest scored "none"


class TriageQueries:
    def __init__(self, store: AdTriageStore) -> None:
        self.store = store

    def queue(self, state, priority, limit, offset) -> dict:
        """Items at priority low or above, filtered by state and priority."""
        state, priority = inputs.state(state), inputs.priority(priority)
        limit, offset = inputs.page(limit, offset)
        total, docs = self.store.queue_page([priority] if priority else QUEUED, state, offset, limit)
        return {"total": total, "offset": offset, "items": [queue_entry_view(d) for d in docs]}

    def ad(self, ad_key) -> dict:
        ad_id = inputs.ad_key(ad_key)
        doc = self.store.ad(ad_id, with_link=False)
        if doc is None:
            raise UnknownAd("no ad with this key")  # never echo what the caller sent
        return ad_view(doc)

    def cluster(self, cluster_id) -> dict:
        cid = inputs.text(cluster_id, "cluster_id", limit=40)
        doc = self.store.cluster(cid)
        if doc is None:
            raise UnknownCluster("no cluster with this id")
        return cluster_view(doc, self.store.cluster_members(cid))

    def quarantine(self, status, limit, offset) -> dict:
        status = inputs.optional_choice(status, "status", ("open", "resubmitted"))
        limit, offset = inputs.page(limit, offset)
        total, docs = self.store.list_quarantined(status, offset, limit)
        return {"total": total, "offset": offset, "items": [quarantine_view(d) for d in docs]}

    def rulesets(self) -> dict:
        return {"active": self.store.active_ruleset(), "available": available()}

    def outcomes(self) -> dict:
        """Per rule-set version: clusters flagged under it, those outreach reached, those that led to an
        identification talk, and the outreach attempts. Counted in the database: the flagged clusters over the ads,
        the labels per (version, cluster); only the labelled clusters are looked up once more, to tell whether the
        ads still show them flagged (a label counts its cluster as flagged under its version either way)."""
        labelled = self.store.labelled_clusters()
        flagged = self.store.flagged_clusters_per_version()
        pairs = self.store.flagged_pairs(cluster for _, cluster, *_ in labelled)
        return outcomes_view(outcomes_per_version(flagged, labelled, pairs))

    def linking(self) -> dict:
        return self.store.linking_state()
