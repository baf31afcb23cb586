"""Ingestion: arrivals are merged into their stored history, scored on their own, linked into the stored clusters and
written with their clusters, queue rows and events in one transaction per batch; rejections go to the quarantine in
the same one. Every source (commands/sources.py) ends here, so every way in stores the same shape.

The same (platform, adId) seen again extends the ad's sightings and keeps its cluster; the newest observation (by
lastSeen) supplies the content. A sighting is named by its request line or event id, so a redelivered request or
event changes nothing. Linking reads and writes only the link keys and clusters the batch's ads touch
(domain/linkage.py), so the cost of a batch does not grow with the number of stored ads.
"""
from __future__ import annotations

import os
from datetime import datetime

from kit.storage import now as utc_now, utc
from services.ad_triage.codec import (ad_fields, cluster_state, merge_queue_docs, own_best, quarantine_doc,
                                      score_doc, stored_ad)
from services.ad_triage.commands.assessment import settle
from services.ad_triage.domain.arrivals import Arrival, Rejection, quarantine_id
from services.ad_triage.domain.linkage import CONTACT, IMAGE, LinkInput, Linkage
from services.ad_triage.domain.places import canonical_city, known_city
from services.ad_triage.domain.ruleset import load as load_ruleset
from services.ad_triage.domain.scoring import own_score
from services.ad_triage.domain.stored import key_string
from services.ad_triage.domain.text_signature import bands, decode, encode, signature
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
        link = {"pseudonyms": sorted(set(pseudonyms)), "images": sorted(set(ad.image_hashes))}
        # the signature of its first text, top level: a text candidate is read with its cluster and this alone
        return {"_id": key_string(ad.key), **fields, "link": link, "signature": encode(signature(ad.text)),
                "sightings": [sighting], "created_at": at}, "accepted"
    if any(s["ref"] == arrival.ref for s in doc.get("sightings", ())):
        return doc, "unchanged"
    merged = dict(doc)
    if ad.last_seen >= utc(doc["last_seen"]):
        merged.update({name: fields[name] for name in CONTENT})
    merged["first_seen"] = min(utc(doc["first_seen"]), ad.first_seen)
    merged["last_seen"] = max(utc(doc["last_seen"]), ad.last_seen)
    link = dict(doc.get("link") or {})
    # linking keeps every contact and image the ad ever showed and the signature of its first text: links only join
    link["pseudonyms"] = sorted(set(link.get("pseudonyms") or []) | set(pseudonyms))
    link["images"] = sorted(set(link.get("images") or []) | set(ad.image_hashes))
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
        report = (runner or self.store.transaction)(
            lambda session: self._work(session, arrivals, quarantined, actor, via, at, also))
        if not report:  # an event handled before: nothing to do
            return {"accepted": 0, "updated": 0, "unchanged": len(arrivals), "flagged": 0, "quarantined": 0,
                    "results": []}
        results = report.pop("_results") + [
            {"line": r.line, "status": "quarantined", "quarantine_id": qid, "reasons": list(r.reasons)}
            for r, qid in quarantined]
        results.sort(key=lambda r: (r["line"] is None, r["line"] or 0))
        return {**report, "quarantined": len(quarantined), "results": results}

    def _work(self, session, arrivals, quarantined, actor, via, at, also) -> dict:
        store = self.store
        docs = store.ads_by_id({key_string(a.ad.key) for a in arrivals}, session)
        stored_before = {ad_id: doc.get("cluster_id") for ad_id, doc in docs.items()}
        results, changed = [], {}
        for arrival in arrivals:
            ad_id = key_string(arrival.ad.key)
            merged, status = _merge(docs.get(ad_id), arrival, at)
            results.append({"line": arrival.line, "status": status, "ad_key": ad_id})
            if status != "unchanged":
                docs[ad_id] = changed[ad_id] = merged
        ruleset = load_ruleset(store.active_ruleset(session))
        inputs = [self._link_input(doc, stored_before.get(ad_id), ruleset) for ad_id, doc in changed.items()]
        linkage, loaded = self._linkage(session, inputs)
        for link_input in inputs:
            linkage.add(link_input)
        _fault_after_linking()
        plan = linkage.plan()
        saved = [{**doc, "cluster_id": plan.ad_cluster[ad_id], "updated_at": at} for ad_id, doc in changed.items()]
        store.save_ads(session, saved)
        store.write_signatures(session, saved)
        store.relabel(session, plan.renamed)
        store.write_links(session, plan.links)
        settled = settle(store, session, plan, loaded, ruleset, "linked", at)
        store.add_quarantined(session, [quarantine_doc(r, qid, via, actor, store.cipher, at)
                                        for r, qid in quarantined])
        if also is not None:
            also(session)
        return {"accepted": sum(r["status"] == "accepted" for r in results),
                "updated": sum(r["status"] == "updated" for r in results),
                "unchanged": sum(r["status"] == "unchanged" for r in results),
                "flagged": settled.flagged, "_results": results}

    @staticmethod
    def _link_input(doc: dict, stored_cluster: str | None, ruleset) -> LinkInput:
        """Score the ad on its own (stored on it) and say what links it."""
        own = own_score(stored_ad(doc), ruleset)
        doc["score"] = score_doc(own)
        link = doc.get("link") or {}
        sig = decode(doc.get("signature"))
        return LinkInput(
            ad_id=doc["_id"], key=(doc["platform"], doc["ad_id"]), is_new=stored_cluster is None,
            stored_cluster=stored_cluster, platform=doc["platform"], city=canonical_city(doc["location"]),
            first_seen=utc(doc["first_seen"]), last_seen=utc(doc["last_seen"]),
            contacts=tuple(link.get("pseudonyms") or ()), images=tuple(link.get("images") or ()), bands=bands(sig),
            signature=sig, own=own_best(doc["_id"], doc["score"], doc["last_seen"], known_city(doc["location"])))

    def _linkage(self, session, inputs: list[LinkInput]) -> tuple[Linkage, dict[str, dict]]:
        """A planner loaded with the stored link keys, text candidates and clusters the batch's ads touch."""
        store = self.store
        keys = {CONTACT + c for i in inputs for c in i.contacts} | {IMAGE + h for i in inputs for h in i.images}
        keys |= {band for i in inputs for band in i.bands}
        links = store.links(session, keys)
        own = {i.ad_id for i in inputs}
        listed = {ad for link in links.values() for ad in link.ads} - own
        candidates = store.candidates(session, listed)
        wanted = {link.cluster_id for link in links.values() if link.cluster_id}
        wanted |= {cluster for cluster, _ in candidates.values()} | {i.stored_cluster for i in inputs}
        loaded = store.clusters_by_id(session, wanted)
        states = {cid: cluster_state(doc) for cid, doc in loaded.items()}
        return Linkage(states, links, candidates, merge_queue_docs), loaded
