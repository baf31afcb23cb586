"""Commands of outreach staff and rule-set owners: moving queue items, publishing a rule set, rescoring.

A rescore replays every stored ad through the same assessment as ingestion, so it emits events only where a
priority changed, and running it twice with one version changes nothing the second time.
"""
from __future__ import annotations

from datetime import datetime, timezone

from pymongo import UpdateOne

from services.ad_triage import inputs, rulesets
from services.ad_triage.assess import assess
from services.ad_triage.codec import key_string, key_tuple, queue_doc, queue_item, stored_ad
from services.ad_triage.domain.triage import IllegalTransition, move
from services.ad_triage.storage import AdTriageStore
from services.ad_triage.views import queue_view


class UnknownAd(ValueError):
    code = "unknown_ad"
    field = "ad_key"


class ConcurrentChange(ValueError):
    code = "concurrent_change"
    field = "ad_key"


class RuleSetNotActive(ValueError):
    code = "ruleset_not_active"
    field = "version"


class TriageCommands:
    def __init__(self, store: AdTriageStore) -> None:
        self.store = store

    def move_item(self, *, ad_key, to_state, reason, actor, assignee=None) -> dict:
        ad_id, actor = inputs.ad_key(ad_key), inputs.actor(actor)
        to_state = inputs.state(inputs.text(to_state, "to_state", 20))
        reason = inputs.text(reason, "reason")
        assignee = None if assignee is None else inputs.actor(assignee)

        def work(session):
            doc = self.store.ad(ad_id, {"queue": 1}, session)
            if doc is None:
                raise UnknownAd(f"no ad {ad_id!r}")
            version = doc["queue"].get("version", 0)
            try:
                item = move(queue_item(key_tuple(ad_id), doc["queue"]), to_state, actor,
                            datetime.now(timezone.utc), reason, assignee)
            except IllegalTransition as exc:
                raise inputs.InvalidInput(str(exc), "to_state", "illegal_transition") from None
            queue = queue_doc(item, version + 1)
            if not self.store.set_queue(session, ad_id, version, queue):
                raise ConcurrentChange(f"ad {ad_id!r} was moved by someone else; reload and try again")
            return queue_view(queue)

        return self.store.transaction(work)

    def publish_ruleset(self, *, version, actor) -> dict:
        """Make ``version`` the active rule set and rescore every stored ad with it."""
        actor = inputs.actor(actor)
        ruleset = rulesets.load(version)
        return self._rescore(ruleset.version, actor, publish=True)

    def rescore(self, *, version=None, actor) -> dict:
        """Replay the stored ads through the active rule set (``version``, if given, must be the active one)."""
        actor = inputs.actor(actor)
        active = self.store.active_ruleset()
        if version is not None and version != active:
            raise RuleSetNotActive(f"rule set {version!r} is not active ({active}); publish it first")
        return self._rescore(active, actor, publish=False)

    def _rescore(self, version: str, actor: str, publish: bool) -> dict:
        ruleset = rulesets.load(version)
        store = self.store
        with store.lock:
            def work(session):
                if publish:
                    store.set_active_ruleset(session, version, actor)
                docs = {key_tuple(d["_id"]): d for d in store.all_ads(session=session)}
                clusters = store.network.all_clusters()
                ads = {k: stored_ad(d) for k, d in docs.items()}
                outcomes, cluster_docs = assess(store.network, clusters, ads, docs, ruleset, "rescore")
                updates, events = [], []
                counts = {"rescored": len(outcomes), "changed": 0, "flagged": 0}
                for o in outcomes:
                    state = {"cluster_id": o.cluster_id, "cluster_size": o.cluster_size, "score": o.score,
                             "flagged_versions": o.flagged_versions}
                    if any(docs[o.key].get(k) != v for k, v in state.items()):
                        updates.append(UpdateOne({"_id": key_string(o.key)}, {"$set": state}))
                    for event_type, data in o.events:
                        events.append((event_type, key_string(o.key), data))
                        counts["flagged" if event_type.endswith("flagged") else "changed"] += 1
                store.write_ads(session, updates)
                store.emit_many(session, events)
                store.write_clusters(session, cluster_docs, set())
                return counts
            counts = store.transaction(work)
        return {"version": version, **counts}
