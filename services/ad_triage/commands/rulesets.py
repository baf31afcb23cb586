"""Rule sets: publishing a version (which rescores every stored ad with it) and rescoring with the active one.

A rescore replays every stored ad through the same assessment as ingestion, in one linking transaction, so it
emits events only where a priority changed, and running it twice with one version changes nothing the second time.
"""
from __future__ import annotations

import logging

from services.ad_triage import inputs
from services.ad_triage.codec import stored_ad
from services.ad_triage.commands.assessment import assess, stale_clusters
from services.ad_triage.domain.errors import RuleSetNotActive
from services.ad_triage.domain.events import FLAGGED, PRIORITY_CHANGED
from services.ad_triage.domain.ruleset import load
from services.ad_triage.domain.stored import key_string, key_tuple
from services.ad_triage.storage import AdTriageStore

log = logging.getLogger("actionplan.ad_triage")


class RuleSets:
    def __init__(self, store: AdTriageStore) -> None:
        self.store = store

    def publish(self, version, actor, request_id) -> dict:
        """Make ``version`` the active rule set and rescore every stored ad with it."""
        actor, ruleset = inputs.actor(actor), load(version)
        return self._rescore("publish_ruleset", request_id, ruleset.version, actor, publish=True)

    def rescore(self, version, actor, request_id) -> dict:
        """Replay the stored ads through the active rule set (``version``, if given, must be the active one)."""
        actor = inputs.actor(actor)
        active = self.store.active_ruleset()
        if version is not None and version != active:
            raise RuleSetNotActive(f"rule set {version!r} is not active ({active}); publish it first")
        return self._rescore("rescore", request_id, active, actor, publish=False)

    def repair_after_start(self) -> None:
        """Stored cluster ids that differ from the rebuilt network (data written before linking was serialised
        across instances) are corrected by one rescore."""
        stale = self.store.ads_with_stale_cluster()
        if stale:
            log.warning("%d ads had a stale cluster id after restart; rescoring", stale)
            self._rescore("rescore", None, self.store.active_ruleset(), "system", publish=False)
        log.info("linking state rebuilt: %d ads", self.store.ads_linked())

    def _rescore(self, method: str, request_id, version: str, actor: str, publish: bool) -> dict:
        ruleset, store = load(version), self.store

        def work(session, network, _version):
            if publish:
                store.set_active_ruleset(session, version, actor)
            docs = {key_tuple(d["_id"]): d for d in store.all_ads(session)}
            clusters = network.all_clusters()
            assessment = assess(network, clusters, {k: stored_ad(d) for k, d in docs.items()}, docs, ruleset,
                                "rescore")
            store.save_ads(session, states={key_string(o.key): o.state for o in assessment.outcomes
                                            if o.differs_from(docs[o.key])})
            store.emit_many(session, assessment.events())
            store.write_clusters(session, assessment.cluster_docs, stale_clusters(clusters, docs))
            return {"version": version, "rescored": len(assessment.outcomes),
                    "changed": assessment.count(PRIORITY_CHANGED), "flagged": assessment.count(FLAGGED)}

        arguments = {"version": version, "actor": actor}
        return store.linking_transaction(
            work, lambda attempt: store.run_once(method, request_id, arguments, attempt))
