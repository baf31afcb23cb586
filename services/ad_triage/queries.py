"""Read side: the triage queue of clusters in its order (from its read model), an ad with its explanation, clusters,
the quarantine, rule sets and the rescore's progress, the outreach outcomes per rule-set version, and the linking
state as stored."""
from __future__ import annotations


from services.ad_triage import inputs
from services.ad_triage.domain.errors import UnknownAd, UnknownCluster
from services.ad_triage.domain.labels import outcomes_per_version
from services.ad_triage.commands.rulesets import RuleSets
from services.ad_triage.domain.clusters import clusters_digest
from services.ad_triage.domain.ruleset import available
from services.ad_triage.storage import INSTANCE, AdTriageStore
from services.ad_triage.views import (ad_with_cluster_view, cluster_view, outcomes_view, quarantine_view,
                                      queue_row_view)

MEMBERS_SHOWN = 50  # a cluster view lists its best ads; the count says how many there are


class TriageQueries:
    def __init__(self, store: AdTriageStore) -> None:
        self.store = store

    def queue(self, state, priority, limit, offset) -> dict:
        """Clusters at priority low or above, filtered by state and priority, by score, recency and size."""
        state, priority = inputs.state(state), inputs.priority(priority)
        limit, offset = inputs.page(limit, offset)
        if priority == "none":  # clusters scored below "low" are not queued
            return {"total": 0, "offset": offset, "items": []}
        total, rows = self.store.queue_page(state, priority, offset, limit)
        return {"total": total, "offset": offset, "items": [queue_row_view(r) for r in rows]}

    def ad(self, ad_key) -> dict:
        ad_id = inputs.ad_key(ad_key)
        doc = self.store.ad(ad_id, with_link=False)
        if doc is None:
            raise UnknownAd("no ad with this key")  # never echo what the caller sent
        return ad_with_cluster_view(doc, self.store.cluster(doc["cluster_id"]) if doc.get("cluster_id") else None)

    def cluster(self, cluster_id) -> dict:
        cid = inputs.text(cluster_id, "cluster_id", limit=40)
        doc = self.store.cluster(cid)
        if doc is None:
            raise UnknownCluster("no cluster with this id")
        return cluster_view(doc, self.store.cluster_members(cid, MEMBERS_SHOWN))

    def quarantine(self, status, limit, offset) -> dict:
        status = inputs.optional_choice(status, "status", ("open", "resubmitted"))
        limit, offset = inputs.page(limit, offset)
        total, docs = self.store.list_quarantined(status, offset, limit)
        return {"total": total, "offset": offset, "items": [quarantine_view(d) for d in docs]}

    def rulesets(self) -> dict:
        return {"active": self.store.active_ruleset(), "available": available(),
                "rescore": RuleSets(self.store).progress()}

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
        """The stored clusters (from the ads: reads every ad, for audits): how many, and a digest of their
        membership to compare runs and instances."""
        clusters = self.store.all_clusters()
        return {"instance": INSTANCE, "ads_linked": sum(len(m) for m in clusters.values()),
                "clusters": len(clusters), "digest": clusters_digest(clusters)}
