"""Rule sets: publishing a version rescores every stored ad and cluster with it; a rescore replays them under the
active one.

A rescore runs in chunks, each its own short transaction, never one transaction over every ad, and its progress is
stored (config document ``rescore``), so a rescore cut short (a crash, a redeploy) is resumed by the next
instance's timer where it stopped, and start-up never waits for it. Phases:
1. ``ads``: each ad's own score under the version, in ``_id`` order; the clusters of the chunk take their best ad
   from it;
2. ``ads_sweep``: ads still scored under another version (a pass by position can step over an ad when ads are
   deleted meanwhile), found by one filtered read;
3. ``clusters``: each cluster's score (best ad plus network signals), its queue rows and its events, in ``_id``
   order; 4. ``clusters_sweep``: as 2, for clusters.
A chunk's ids are read outside its transaction by position (``skip`` on the ``_id`` order: the local MongoDB-wire
server answers that from its index, where an ``_id`` range scans), so the transaction holds the database only for
the chunk's own reads and writes. Each chunk advances the progress only from the position it read, so two
instances resuming at once never both apply a chunk; the instance that started a rescore holds a lease on it,
renewed by every chunk, and a timer takes over only a rescore whose lease ran out. Events are raised only where a
cluster's priority changed or it is first flagged under the version, so running a rescore twice with one version
raises nothing the second time.
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

from kit.storage import now, utc
from services.ad_triage import inputs
from services.ad_triage.codec import best_doc, cluster_state, own_best, score_doc, stored_ad
from services.ad_triage.commands.assessment import assessed, best_of_members
from services.ad_triage.domain.errors import RuleSetNotActive
from services.ad_triage.domain.events import FLAGGED, PRIORITY_CHANGED
from services.ad_triage.domain.places import known_city
from services.ad_triage.domain.ruleset import load
from services.ad_triage.domain.scoring import own_score
from services.ad_triage.storage import ADS, CLUSTERS, INSTANCE, AdTriageStore

log = logging.getLogger("actionplan.ad_triage")
CHUNK = 500  # ads (or clusters) per transaction: short transactions, few round trips
LEASE = timedelta(seconds=60)  # a rescore whose runner renewed nothing for this long is taken over
_RUNNING = threading.Lock()  # (a green lock under nameko's eventlet)
ADS_PHASE, ADS_SWEEP, CLUSTERS_PHASE, CLUSTERS_SWEEP, DONE = "ads", "ads_sweep", "clusters", "clusters_sweep", "done"
NEXT = {ADS_PHASE: ADS_SWEEP, ADS_SWEEP: CLUSTERS_PHASE, CLUSTERS_PHASE: CLUSTERS_SWEEP, CLUSTERS_SWEEP: DONE}
COLLECTION = {ADS_PHASE: ADS, ADS_SWEEP: ADS, CLUSTERS_PHASE: CLUSTERS, CLUSTERS_SWEEP: CLUSTERS}


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
            progress = {"version": version, "phase": ADS_PHASE, "position": 0, "actor": actor, "started_at": now(),
                        "rescored": 0, "changed": 0, "flagged": 0, "run": request_id or now().isoformat(),
                        "owner": INSTANCE, "lease_until": now() + LEASE}
            store.save_rescore_progress(session, progress)
            return {"run": progress["run"]}

        run = store.run_once(method, request_id, {"version": version, "actor": actor}, begin)["run"]
        progress = self.resume(take_over=True)
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

    def resume(self, take_over: bool = False) -> dict | None:
        """Run the stored rescore's remaining chunks; None when none is unfinished, another instance holds its
        lease (unless ``take_over``: the caller just started it), or another instance applied a chunk first."""
        # one runner per process: the timer leaves alone a rescore this process's publish call is running
        if not _RUNNING.acquire(blocking=take_over):
            return None
        try:
            return self._resume(take_over)
        finally:
            _RUNNING.release()

    def _resume(self, take_over: bool) -> dict | None:
        store = self.store
        progress = store.rescore_progress()
        if progress is None or progress["phase"] == DONE:
            return None
        lease = progress.get("lease_until")
        if not take_over and progress.get("owner") != INSTANCE and lease is not None and utc(lease) > now():
            return None
        while progress["phase"] != DONE:
            ids = self._next_ids(progress)
            try:
                progress = store.transaction(lambda session: self._chunk(session, progress, ids))
            except ProgressMoved:
                log.info("rescore chunk taken by another instance; leaving the rest to it")
                return None
        return progress

    def _next_ids(self, progress: dict) -> list[str]:
        """The ids of the next chunk, read outside the chunk's transaction."""
        phase = progress["phase"]
        if phase in (ADS_PHASE, CLUSTERS_PHASE):
            return self.store.ids_at(COLLECTION[phase], progress["position"], CHUNK)
        return self.store.ids_scored_otherwise(COLLECTION[phase], progress["version"], CHUNK)

    def _chunk(self, session, expected: dict, ids: list[str]) -> dict:
        store = self.store
        progress = store.rescore_progress(session)
        if progress is None or any(progress.get(k) != expected.get(k) for k in ("run", "phase", "position")):
            raise ProgressMoved()
        ruleset, phase = load(progress["version"]), progress["phase"]
        if phase in (ADS_PHASE, ADS_SWEEP):
            docs = list(store.ads_by_id(ids, session, scoring_only=True).values())
            self._rescore_ads(session, docs, ruleset)
            progress["rescored"] += len(docs)
        else:
            docs = list(store.clusters_by_id(session, ids).values())
            changed, flagged = self._rescore_clusters(session, docs, ruleset)
            progress["changed"] += changed
            progress["flagged"] += flagged
        # a pass by position moves on by a whole chunk; a sweep is done when it finds nothing left
        more = len(ids) == CHUNK if phase in (ADS_PHASE, CLUSTERS_PHASE) else bool(ids)
        progress["position"] = progress["position"] + len(ids) if more and phase in (ADS_PHASE, CLUSTERS_PHASE) else 0
        if not more:
            progress["phase"] = NEXT[phase]
        progress.update(owner=INSTANCE, lease_until=now() + LEASE)
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
