"""The ad triage service's own MongoDB database: ads (with their own score), clusters (with the cluster's score and
queue state), link keys, the ads' text signatures (what a text candidate is read for), the queue read model,
quarantine, the published rule set and the rescore's progress. The only module of the service that touches MongoDB.

Writes are batched: one transaction per import chunk, one bulk write per collection, so throughput is bound by the
domain's CPU work rather than by round trips. Linking state lives here, not in a process: a batch reads the link
keys its ads carry and the clusters they name (``_id`` lookups), and writes the clusters it changed in the same
transaction as the ads, so any number of instances ingest into the same clusters and a restart rebuilds nothing.
Two transactions that touch one cluster or link key conflict on its document, and the later one is retried.

The queue read model is one collection per filter (state x priority, "any" for no filter), each row keyed by the
cluster's queue position (domain triage.queue_position): a page is the first rows of the collection's own ``_id``
order, so its cost does not grow with the number of ads or clusters.
"""
from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from typing import TypeVar

from pymongo import ASCENDING, DeleteOne, ReplaceOne, UpdateOne

from kit.inbox import handle_once
from kit.storage import MongoStore, now
from services.ad_triage.codec import queue_row
from services.ad_triage.domain.linkage import Link
from services.ad_triage.domain.ruleset import PRIORITIES, default_version
from services.ad_triage.domain.text_signature import decode
from services.ad_triage.domain.triage import STATES

T = TypeVar("T")
PURPOSE = "ad-linkage"
RULESET_SETTING = "AD_TRIAGE_RULESET_VERSION"
ADS, CLUSTERS, LINKS, QUARANTINE, CONFIG = "ads", "clusters", "links", "quarantine", "config"
# ad id -> (cluster id, text signature): what a text candidate is read for, about 600 bytes against an ad's 2,200
SIGNATURES = "signatures"
LABELS = "outreach_labels"  # one per (cluster, contact): what outreach learnt, for the per-version figures
RESCORE = "rescore"  # the config document of the rescore in progress (or the last one)
ANY = "any"
INSTANCE = f"{socket.gethostname()}:{os.getpid()}"  # names this process (a rescore's lease, the linking answer)


def queue_view(state: str | None, priority: str | None) -> str:
    """The read-model collection serving one filter of the queue."""
    return f"queue_{state or ANY}_{priority or ANY}"


def views_of(state: str, priority: str) -> list[str]:
    """Every filter a cluster in ``state`` at ``priority`` is listed under (none below priority low)."""
    if priority not in PRIORITIES:
        return []
    return [queue_view(None, None), queue_view(state, None), queue_view(None, priority), queue_view(state, priority)]


# whole sub-documents: the MongoDB-wire server used locally ignores dotted projections
LIST_FIELDS = {"platform": 1, "title": 1, "city": 1, "score": 1, "last_seen": 1, "cluster_id": 1}
ALL_VIEWS = [queue_view(s, p) for s in (None, *STATES) for p in (None, *PRIORITIES)]


class AdTriageStore(MongoStore):
    def __init__(self, client, db, outbox, settings) -> None:
        super().__init__(client, db, outbox, settings)
        self.pseudonymise = self.pseudonyms.for_purpose(PURPOSE)
        self.default_ruleset = default_version(os.environ.get(RULESET_SETTING), RULESET_SETTING)

    def setup(self) -> None:
        super().setup()
        self.db[ADS].create_index([("cluster_id", ASCENDING)])
        self.db[LINKS].create_index([("cluster_id", ASCENDING)])
        self.db[LABELS].create_index([("ruleset_version", ASCENDING), ("cluster_id", ASCENDING)])
        self.db[QUARANTINE].create_index([("status", ASCENDING), ("received_at", ASCENDING)])
        existing = set(self.db.list_collection_names())
        for view in ALL_VIEWS:  # collections are created outside transactions, once
            if view not in existing:
                self.db.create_collection(view)

    # -- linking -----------------------------------------------------------------------------------------------------
    def links(self, session, keys: Iterable[str]) -> dict[str, Link]:
        keys = sorted(set(keys))
        if not keys:
            return {}
        return {d["_id"]: Link(d["_id"], d.get("cluster_id"), list(d.get("cities", ())), list(d.get("ads", ())))
                for d in self.db[LINKS].find({"_id": {"$in": keys}}, session=session)}

    def write_links(self, session, links: list[Link]) -> None:
        if links:
            self.db[LINKS].bulk_write([ReplaceOne({"_id": link.key}, _link_doc(link), upsert=True)
                                       for link in links], ordered=False, session=session)

    def candidates(self, session, ad_ids: Iterable[str]) -> dict[str, tuple[str, tuple[int, ...]]]:
        """Ad id -> (cluster id, text signature) of stored ads a text bucket lists: from their small signature
        documents, and from the ads themselves for ads stored before those existed."""
        ids = sorted(set(ad_ids))
        if not ids:
            return {}
        found = {d["_id"]: (d["cluster_id"], decode(d["signature"]))
                 for d in self.db[SIGNATURES].find({"_id": {"$in": ids}}, session=session)}
        older = [i for i in ids if i not in found]
        if older:
            docs = self.db[ADS].find({"_id": {"$in": older}}, {"cluster_id": 1, "signature": 1}, session=session)
            found.update({d["_id"]: (d["cluster_id"], decode(d["signature"])) for d in docs
                          if d.get("cluster_id") and d.get("signature")})
        return found

    def write_signatures(self, session, ads: list[dict]) -> None:
        """The signature documents of stored ads (with their cluster ids); ads without a signature have none."""
        docs = [{"_id": d["_id"], "cluster_id": d["cluster_id"], "signature": d["signature"]} for d in ads
                if d.get("signature")]
        if docs:
            self.db[SIGNATURES].bulk_write([ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in docs],
                                           ordered=False, session=session)

    def clusters_by_id(self, session, ids: Iterable[str]) -> dict[str, dict]:
        ids = sorted({i for i in ids if i})
        if not ids:
            return {}
        return {d["_id"]: d for d in self.db[CLUSTERS].find({"_id": {"$in": ids}}, session=session)}

    def relabel(self, session, renamed: dict[str, str]) -> None:
        """Members, their signature documents and link keys of clusters that were merged or renamed carry the final
        id. Found by the indexed cluster_id and rewritten by ``_id``: the local MongoDB-wire server scans for a
        filtered multi-update. A member's signature document has the member's id, so it needs no search."""
        for collection, also in ((ADS, SIGNATURES), (LINKS, None)):
            ops = [UpdateOne({"_id": d["_id"]}, {"$set": {"cluster_id": new}})
                   for old, new in sorted(renamed.items())
                   for d in self.db[collection].find({"cluster_id": old}, {"_id": 1}, session=session)]
            if ops:
                self.db[collection].bulk_write(ops, ordered=False, session=session)
                if also:  # an ad without a signature has no document there: the update then changes nothing
                    self.db[also].bulk_write(ops, ordered=False, session=session)

    def members(self, session, cluster_id: str, fields: dict) -> list[dict]:
        return list(self.db[ADS].find({"cluster_id": cluster_id}, fields, session=session))

    def write_clusters(self, session, docs: list[dict], removed: list[dict]) -> None:
        """Store cluster documents and their queue rows; ``removed`` are the stored documents they replace (their
        rows go) and the absorbed ones (their documents go too)."""
        keep = {d["_id"] for d in docs}
        written = {(view, doc["position"]) for doc in docs for view in doc["views"]}
        rows: dict[str, list] = {}
        for old in removed:
            for view in old.get("views", ()):
                if (view, old["position"]) not in written:  # a row rewritten in place needs no delete
                    rows.setdefault(view, []).append(DeleteOne({"_id": old["position"]}))
        for doc in docs:
            for view in doc["views"]:
                rows.setdefault(view, []).append(ReplaceOne({"_id": doc["position"]}, queue_row(doc), upsert=True))
        for view, ops in sorted(rows.items()):
            self.db[view].bulk_write(ops, ordered=True, session=session)
        gone = sorted({old["_id"] for old in removed} - keep)
        if gone:
            self.db[CLUSTERS].delete_many({"_id": {"$in": gone}}, session=session)
        if docs:
            self.db[CLUSTERS].bulk_write([ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in docs],
                                         ordered=False, session=session)

    def replace_many(self, session, collection: str, docs: list[dict]) -> None:
        if docs:
            self.db[collection].bulk_write([ReplaceOne({"_id": d["_id"]}, d) for d in docs], ordered=False,
                                           session=session)

    def ids_at(self, collection: str, position: int, limit: int) -> list[str]:
        """The ids at a position of the collection's ``_id`` order (read from the index, outside transactions)."""
        docs = self.db[collection].find({}, {"_id": 1}).sort("_id", ASCENDING).skip(position).limit(limit)
        return [d["_id"] for d in docs]

    def ids_scored_otherwise(self, collection: str, version: str, limit: int) -> list[str]:
        """Ids of ads or clusters with a score of another rule-set version (one filtered read: a sweep)."""
        query = {"score": {"$ne": None}, "score.ruleset_version": {"$ne": version}}
        return [d["_id"] for d in self.db[collection].find(query, {"_id": 1}).limit(limit)]

    def cluster_count(self) -> int:
        return self.db[CLUSTERS].estimated_document_count()

    def ad_count(self) -> int:
        return self.db[ADS].estimated_document_count()

    def all_clusters(self) -> dict[str, list[str]]:
        """Cluster id -> member ad keys, from the ads (for audits and tests: reads every ad)."""
        found: dict[str, list[str]] = {}
        for doc in self.db[ADS].find({}, {"cluster_id": 1}):
            found.setdefault(doc.get("cluster_id"), []).append(doc["_id"])
        return {cid: sorted(members) for cid, members in found.items()}

    # -- the queue ---------------------------------------------------------------------------------------------------
    def cluster(self, cluster_id: str, session=None) -> dict | None:
        return self.db[CLUSTERS].find_one({"_id": cluster_id}, session=session)

    def queue_page(self, state: str | None, priority: str | None, offset: int, limit: int) -> tuple[int, list[dict]]:
        """One page of the queue read model; the total is the collection's count (kept by the server, not counted)."""
        view = self.db[queue_view(state, priority)]
        rows = list(view.find().sort("_id", ASCENDING).skip(offset).limit(limit))
        return view.estimated_document_count(), rows

    def cluster_members(self, cluster_id: str, limit: int) -> list[dict]:
        """The cluster's ads, best own score first (index: cluster_id; the sort is over the members only)."""
        docs = self.db[ADS].find({"cluster_id": cluster_id}, LIST_FIELDS)
        return sorted(docs, key=lambda d: (-(d.get("score") or {}).get("value_milli", 0), d["_id"]))[:limit]

    # -- rescore progress --------------------------------------------------------------------------------------------
    def rescore_progress(self, session=None) -> dict | None:
        return self.db[CONFIG].find_one({"_id": RESCORE}, session=session)

    def save_rescore_progress(self, session, progress: dict) -> None:
        self.db[CONFIG].replace_one({"_id": RESCORE}, {**progress, "_id": RESCORE}, upsert=True, session=session)

    # -- inbox -------------------------------------------------------------------------------------------------------
    def handle_once(self, consumer: str, event: dict, work: Callable[[object], dict]) -> dict | None:
        """Run ``work`` with the event recorded as handled by ``consumer``; None when it was handled before."""
        outcome: dict = {}
        handle_once(self.client, self.db, consumer, event, lambda session: outcome.update(work(session)))
        return outcome or None

    # -- rule set ----------------------------------------------------------------------------------------------------
    def active_ruleset(self, session=None) -> str:
        """The version published last, else the start-up default (AD_TRIAGE_RULESET_VERSION, else the newest)."""
        doc = self.db[CONFIG].find_one({"_id": "ruleset"}, session=session)
        return doc["version"] if doc else self.default_ruleset

    def set_active_ruleset(self, session, version: str, actor: str) -> None:
        self.db[CONFIG].replace_one({"_id": "ruleset"}, {"_id": "ruleset", "version": version, "actor": actor,
                                                          "at": now()}, upsert=True, session=session)

    # -- ads -------------------------------------------------------------------------------------------------------
    def ads_by_id(self, ids, session=None, scoring_only: bool = False) -> dict[str, dict]:
        """Stored ads by id; ``scoring_only`` leaves out what rescoring an ad never reads (history)."""
        ids = list(ids)
        if not ids:
            return {}
        projection = {"sightings": 0} if scoring_only else None
        return {d["_id"]: d for d in self.db[ADS].find({"_id": {"$in": ids}}, projection, session=session)}

    def save_ads(self, session, whole: list[dict] = (), states: dict[str, dict] | None = None) -> None:
        """Replace ``whole`` documents and set the scoring ``states`` (ad id -> fields) of others, in one write.

        Whole documents because the local MongoDB-wire server turns a top-level datetime in $set into a string.
        """
        updates = [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in whole]
        updates += [UpdateOne({"_id": ad_id}, {"$set": state}) for ad_id, state in (states or {}).items()]
        if updates:
            self.db[ADS].bulk_write(updates, ordered=True, session=session)

    def ad(self, ad_id: str, session=None, with_link: bool = True) -> dict | None:
        return self.db[ADS].find_one({"_id": ad_id}, None if with_link else {"link": 0}, session=session)

    # -- quarantine ------------------------------------------------------------------------------------------------
    def add_quarantined(self, session, docs: list[dict]) -> None:
        # ids derive from the request and line, so a redelivered request overwrites rather than duplicates
        if docs:
            self.db[QUARANTINE].bulk_write([UpdateOne({"_id": d["_id"]}, {"$setOnInsert": d}, upsert=True)
                                            for d in docs], ordered=False, session=session)

    def quarantined(self, qid: str, session=None) -> dict | None:
        return self.db[QUARANTINE].find_one({"_id": qid}, session=session)

    def update_quarantined(self, session, qid: str, changes: dict) -> None:
        self.db[QUARANTINE].update_one({"_id": qid}, {"$set": changes}, session=session)

    def list_quarantined(self, status: str | None, offset: int, limit: int) -> tuple[int, list[dict]]:
        query = {} if status is None else {"status": status}
        total = self.db[QUARANTINE].count_documents(query)
        docs = self.db[QUARANTINE].find(query, {"raw": 0}).sort([("received_at", ASCENDING), ("_id", ASCENDING)])
        return total, list(docs.skip(offset).limit(limit))

    # -- outreach labels -------------------------------------------------------------------------------------------
    # Aggregations only in the forms both MongoDB and the local MongoDB-wire server evaluate: a group key made with
    # $concat (not a sub-document), $first/$max/$sum of plain fields.
    def label(self, label_id: str, session=None) -> dict | None:
        return self.db[LABELS].find_one({"_id": label_id}, session=session)

    def save_label(self, session, doc: dict) -> None:
        self.db[LABELS].replace_one({"_id": doc["_id"]}, doc, upsert=True, session=session)

    def flagged_clusters_per_version(self) -> dict[str, int]:
        """Version -> clusters flagged under it (the cluster keeps the versions it was flagged under)."""
        docs = self.db[CLUSTERS].aggregate([{"$match": {"flagged_versions": {"$exists": True, "$ne": []}}},
                                            {"$project": {"flagged_versions": 1}}, {"$unwind": "$flagged_versions"},
                                            {"$group": {"_id": "$flagged_versions", "clusters": {"$sum": 1}}}])
        return {d["_id"]: int(d["clusters"]) for d in docs}

    def flagged_pairs(self, cluster_ids) -> set[tuple[str, str]]:
        """The (version, cluster) pairs of the given clusters' flags (``_id`` lookups)."""
        cluster_ids = sorted(set(cluster_ids))
        if not cluster_ids:
            return set()
        docs = self.db[CLUSTERS].find({"_id": {"$in": cluster_ids}}, {"flagged_versions": 1})
        return {(v, d["_id"]) for d in docs for v in d.get("flagged_versions", ())}

    def labelled_clusters(self) -> list[tuple[str, str, bool, bool, int]]:
        """One row per (version, cluster) with labels: (version, cluster, any reached, any talk, attempts). Labels
        without a version count for none."""
        docs = self.db[LABELS].aggregate([
            {"$match": {"ruleset_version": {"$type": "string"}}},
            {"$group": {"_id": {"$concat": ["$ruleset_version", "|", "$cluster_id"]},
                        "v": {"$first": "$ruleset_version"}, "c": {"$first": "$cluster_id"},
                        "reached": {"$max": "$reached"}, "talk": {"$max": "$identification_talk"},
                        "attempts": {"$sum": "$attempts"}}}])
        return [(d["v"], d["c"], bool(d["reached"]), bool(d["talk"]), int(d["attempts"])) for d in docs]


def _link_doc(link: Link) -> dict:
    doc: dict = {"_id": link.key}
    if link.cluster_id is not None:
        doc["cluster_id"] = link.cluster_id
    if link.cities:
        doc["cities"] = link.cities
    if link.ads:
        doc["ads"] = link.ads
    return doc

