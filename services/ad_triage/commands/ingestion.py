"""Ingestion: arrivals are merged into their stored history, linked, scored with their clusters and written with
their events in one transaction per batch; rejections go to the quarantine in the same one. Every source
(commands/sources.py) ends here, so every way in stores the same shape.

The same (platform, adId) seen again extends the ad's sightings and keeps its queue state; the newest observation
(by lastSeen) supplies the content. A sighting is named by its request line or event id, so a redelivered request
or event changes nothing. Linking runs in the store's linking transaction (storage.py), which keeps this process's
network equal to the stored ads whatever happens to the transaction.
"""
from __future__ import annotations

import os
from datetime import datetime

from kit.storage import now as utc_now, utc
from services.ad_triage.codec import ad_fields, linking_input, new_queue_doc, quarantine_doc, stored_ad
from services.ad_triage.commands.assessment import assess, stale_clusters
from services.ad_triage.domain.arrivals import Arrival, Rejection, quarantine_id
from services.ad_triage.domain.events import FLAGGED
from services.ad_triage.domain.ruleset import load as load_ruleset
from services.ad_triage.domain.stored import key_string
from services.ad_triage.storage import AdTriageStore

MAX_SIGHTINGS = 100  # the ad keeps its first and latest sightings; older middle ones add nothing to triage
CONTENT = ("url", "title", "text", "language", "location", "city", "contacts", "price", "image_hashes")
# Fault injection for the fault suite only: the first ingest (of any process) that finds this file missing creates
# it and fails after linking in memory, inside its transaction, so the abort path is exercised for real.
FAULT_ENV = "AD_TRIAGE_FAULT_ABORT_MARKER"


def _merge(doc: dict | None, arrival: Arrival, at: datetime) -> tuple[dict, str]:
    """The ad's new document (without score and cluster) and its status: accepted, updated or unchanged."""
    ad = arrival.ad
    fields = ad_fields(ad)
    sighting = {"ref": arrival.ref, "via": arrival.via, "at": at, "first_seen": ad.first_seen,
                "last_seen": ad.last_seen}
    pseudonyms = [c.pseudonym for c in ad.contacts]
    if doc is None:
        return {"_id": key_string(ad.key), **fields, "link": {"pseudonyms": sorted(set(pseudonyms)), "text": None},
                "sightings": [sighting], "created_at": at}, "accepted"
    if any(s["ref"] == arrival.ref for s in doc.get("sightings", ())):
        return doc, "unchanged"
    merged = dict(doc)
    if ad.last_seen >= utc(doc["last_seen"]):
        merged.update({name: fields[name] for name in CONTENT})
    merged["first_seen"] = min(utc(doc["first_seen"]), ad.first_seen)
    merged["last_seen"] = max(utc(doc["last_seen"]), ad.last_seen)
    link = dict(doc.get("link") or {})
    # linking keeps every contact the ad ever showed and the text of its first signature, so a restart re-links
    link["pseudonyms"] = sorted(set(link.get("pseudonyms") or []) | set(pseudonyms))
    if not link.get("text") and merged["text"] != doc["text"]:
        link["text"] = doc["text"]
    merged["link"] = link
    sightings = list(doc.get("sightings", ())) + [sighting]
    merged["sightings"] = sightings[:1] + sightings[1:][-(MAX_SIGHTINGS - 1):]
    return merged, "updated"


def _fault_after_linking() -> None:
    marker = os.environ.get(FAULT_ENV)
    if not marker:
        return
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    raise RuntimeError(f"injected fault ({FAULT_ENV}): ingest aborted after linking in memory")


class Ingestion:
    def __init__(self, store: AdTriageStore) -> None:
        self.store = store

    def ingest(self, arrivals: list[Arrival], rejections: list[Rejection], *, ref_prefix: str, actor: str,
               via: str, runner=None, also=None) -> dict:
        """Store a parsed batch; returns per-record results (in line order) and counts.

        ``runner(work)`` runs the transaction (default: the store's); ``also(session)`` adds writes of the
        caller (a quarantine row's resolution) to the same transaction.
        """
        at = utc_now()
        quarantined = [(r, quarantine_id(ref_prefix, r.line)) for r in rejections]
        report = self.store.linking_transaction(
            lambda session, network, version: self._work(session, network, version, arrivals, quarantined, actor,
                                                         via, at, also), runner)
        if not report:  # an event handled before: nothing to do
            return {"accepted": 0, "updated": 0, "unchanged": len(arrivals), "flagged": 0, "quarantined": 0,
                    "results": []}
        results = report.pop("_results") + [
            {"line": r.line, "status": "quarantined", "quarantine_id": qid, "reasons": list(r.reasons)}
            for r, qid in quarantined]
        results.sort(key=lambda r: (r["line"] is None, r["line"] or 0))
        return {**report, "quarantined": len(quarantined), "results": results}

    def _work(self, session, network, version, arrivals, quarantined, actor, via, at, also) -> dict:
        store = self.store
        docs = store.ads_by_id({key_string(a.ad.key) for a in arrivals}, session)
        before = dict(docs)
        results, changed = [], set()
        for arrival in arrivals:
            ad_id = key_string(arrival.ad.key)
            merged, status = _merge(docs.get(ad_id), arrival, at)
            results.append({"line": arrival.line, "status": status, "ad_key": ad_id})
            if status != "unchanged":
                docs[ad_id] = merged
                changed.add(arrival.ad.key)
                network.add(*linking_input(merged))
        _fault_after_linking()
        ruleset = load_ruleset(store.active_ruleset(session))
        clusters = network.affected(changed)
        members = {k for ms in clusters.values() for k in ms}
        # other members are only rescored: their history and queue state are not read, nor rewritten
        others = store.ads_by_id({key_string(k) for k in members} - set(docs), session, scoring_only=True)
        docs.update(others)
        before.update(others)
        ads = {k: stored_ad(docs[key_string(k)]) for k in members}
        previous = {k: before.get(key_string(k)) for k in members}
        assessment = assess(network, clusters, ads, previous, ruleset, "linked", changed)
        whole, states = [], {}
        for outcome in assessment.outcomes:
            ad_id = key_string(outcome.key)
            if outcome.key in changed:
                whole.append({"queue": new_queue_doc(), **docs[ad_id], **outcome.state, "link_version": version,
                              "updated_at": at})
            elif outcome.differs_from(before[ad_id]):
                states[ad_id] = outcome.state
        store.save_ads(session, whole, states)
        store.emit_many(session, assessment.events())
        store.write_clusters(session, assessment.cluster_docs, stale_clusters(clusters, previous))
        store.add_quarantined(session, [quarantine_doc(r, qid, via, actor, store.cipher, at)
                                        for r, qid in quarantined])
        if also is not None:
            also(session)
        return {"accepted": sum(r["status"] == "accepted" for r in results),
                "updated": sum(r["status"] == "updated" for r in results),
                "unchanged": sum(r["status"] == "unchanged" for r in results),
                "flagged": assessment.count(FLAGGED), "_results": results}
