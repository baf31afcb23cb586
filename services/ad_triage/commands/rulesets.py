"""Rule sets: publishing a version rescores every stored ad and cluster with it; a rescore replays them under the
active one.

A rescore runs in chunks, each its own transaction, never one transaction over every ad, and its progress is stored
(config document ``rescore``), so a rescore cut short (a crash, a redeploy) is resumed by the next instance's timer
where it stopped, and start-up never waits for it. Two phases:
1. ads, in id order: each ad's own score under the version; the clusters of the chunk take their best ad from it;
2. clusters, in id order: the cluster's score (best ad plus network signals), its queue rows and its events.
Each chunk advances the progress only from the position it read, so two instances resuming at once never both
apply a chunk: the later one's transaction conflicts or finds the position moved, and stops. Events are raised only
where a cluster's priority changed or it is first flagged under the version, so running a rescore twice with one
version raises nothing the second time.
"""
from __future__ import annotations

import logging

from kit.storage import now
from services.ad_triage import inputs
from services.ad_triage.codec import best_doc, cluster_state, own_best, score_doc, stored_ad
from services.ad_triage.commands.assessment import assessed, best_of_members
from services.ad_triage.domain.errors import RuleSetNotActive
from services.ad_triage.domain.events import FLAGGED, PRIORITY_CHANGED
from services.ad_triage.domain.places import known_city
from services.ad_triage.domain.ruleset import load
from services.ad_triage.domain.scoring import own_score
from services.ad_triage.storage import CLUSTERS, AdTriageStore

log = logging.getLogger("actionplan.ad_triage")
CHUNK = 500  # ads (or clusters) per transaction: short transactions, few round trips
ADS_PHASE, CLUSTERS_PHASE, DONE = "ads", "clusters", "done"


class ProgressMoved(Exception):
    """Another instance applied the chunk this one read (not a transient error: retrying would repeat it)."""


class RuleSets:
    def __init__(self, store: AdTriageStore) -> None:
        self.store = store

    def publish(self, version, actor, request_id) -> dict:
        """Make ``version`` the active rule set and rescore every stored ad and cluster with it."""
        actor, ruleset = inputs.actor(actor), load(version)
        return self._start("publish_ruleset", request_id, ruleset.version, actor, publish=True)

    def rescore(self, version, actor, request_id) -> dict:
        """Replay the stored ads through the active rule set (``version``, if given, must be the active one)."""
        actor = inputs.actor(actor)
        active = self.store.active_ruleset()
        if version is not None and version != active:
            raise RuleSetNotActive(f"rule set {version!r} is not active ({active}); publish it first")
        return self._start("rescore", request_id, active, actor, publish=False)

    def _start(self, method: str, request_id, version: str, actor: str, publish: bool) -> dict:
        store = self.store

        def begin(session) -> dict:
            if publish:
                store.set_active_ruleset(session, version, actor)
            progress = {"version": version, "phase": ADS_PHASE, "after": None, "actor": actor, "started_at": now(),
                        "rescored": 0, "changed": 0, "flagged": 0, "run": request_id or now().isoformat()}
            store.save_rescore_progress(session, progress)
            return {"run": progress["run"]}

        run = store.run_once(method, request_id, {"version": version, "actor": actor}, begin)["run"]
        progress = self.resume()
        if progress is None or progress.get("run") != run:
            progress = store.rescore_progress() or {}
        return self.report(progress)

    @staticmethod
    def report(progress: dict) -> dict:
        return {"version": progress.get("version"), "rescored": progress.get("rescored", 0),
                "changed": progress.get("changed", 0), "flagged": progress.get("flagged", 0),
                "done": progress.get("phase") == DONE}

    def progress(self) -> dict | None:
        progress = self.store.rescore_progress()
        return None if progress is None else {**self.report(progress), "phase": progress["phase"]}

    def resume(self) -> dict | None:
        """Run the stored rescore's remaining chunks; None when none is unfinished (or another instance has it)."""
        progress = self.store.rescore_progress()
        while progress is not None and progress["phase"] != DONE:
            try:
                progress = self.store.transaction(lambda session: self._chunk(session, progress))
            except ProgressMoved:
                log.info("rescore chunk taken by another instance; leaving the rest to it")
                return None
        return progress

    def _chunk(self, session, expected: dict) -> dict:
        store = self.store
        progress = store.rescore_progress(session)
        if progress is None or any(progress.get(k) != expected.get(k) for k in ("run", "phase", "after")):
            raise ProgressMoved()
        ruleset = load(progress["version"])
        if progress["phase"] == ADS_PHASE:
            docs = store.ads_after(progress["after"], CHUNK, session)
            self._rescore_ads(session, docs, ruleset)
            more = len(docs) == CHUNK
            progress = {**progress, "rescored": progress["rescored"] + len(docs),
                        "after": docs[-1]["_id"] if more else None,  # the clusters phase starts at the first
                        "phase": ADS_PHASE if more else CLUSTERS_PHASE}
        else:
            docs = store.clusters_after(progress["after"], CHUNK, session)
            changed, flagged = self._rescore_clusters(session, docs, ruleset)
            progress = {**progress, "changed": progress["changed"] + changed, "flagged": progress["flagged"] + flagged,
                        "after": docs[-1]["_id"] if docs else None,
                        "phase": CLUSTERS_PHASE if len(docs) == CHUNK else DONE}
            if progress["phase"] == DONE:
                progress["finished_at"] = now()
                log.info("rescore with %s done: %d ads, %d priority changes, %d flagged", ruleset.version,
                         progress["rescored"], progress["changed"], progress["flagged"])
        store.save_rescore_progress(session, progress)
        return progress

    def _rescore_ads(self, session, docs: list[dict], ruleset) -> None:
        """Each ad's own score; its cluster keeps the best of the members scored under this version so far."""
        store = self.store
        changed, bests = {}, {}
        for doc in docs:
            score = score_doc(own_score(stored_ad(doc), ruleset))
            if score != doc.get("score"):
                changed[doc["_id"]] = {"score": score}
            candidate = own_best(doc["_id"], score, doc["last_seen"], known_city(doc["location"]))
            bests.setdefault(doc.get("cluster_id"), []).append(candidate)
        store.save_ads(session, states=changed)
        clusters = store.clusters_by_id(session, bests)
        replaced = []
        for cluster_id, doc in clusters.items():
            state = cluster_state(doc)
            for candidate in bests[cluster_id]:
                if not state.offer_best(candidate):
                    state.best = best_of_members(store, session, cluster_id)
            if state.best != cluster_state(doc).best:
                replaced.append({**doc, "best": best_doc(state.best)})
        store.replace_many(session, CLUSTERS, replaced)

    def _rescore_clusters(self, session, docs: list[dict], ruleset) -> tuple[int, int]:
        new_docs, events = [], []
        at = now()
        for doc in docs:
            new, raised = assessed(cluster_state(doc), ruleset, "rescore", at)
            new_docs.append(new)
            events += raised
        self.store.write_clusters(session, new_docs, docs)
        self.store.emit_many(session, events)
        return sum(t == PRIORITY_CHANGED for t, _, _ in events), sum(t == FLAGGED for t, _, _ in events)
