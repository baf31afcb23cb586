"""Outreach's own database. Every method takes the transaction's session where it writes; pages are keyset pages
on exactly the index of their order (a page costs the same however many records there are)."""
from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, ReturnDocument

from kit.keyset import after_filter, decode_cursor, encode_cursor  # noqa: F401 (queries use encode_cursor)
from kit.storage import MongoStore

VENUES, SIGNALS, VISITS, NOTES, IDENTIFICATIONS = "venues", "signals", "visits", "inspection_notes", "identifications"
CONTACTS, FOLLOW_UPS, AD_LINKS, TASKS = "contacts", "follow_ups", "ad_links", "tasks"
TASK_COUNTS = "task_counts"  # the task list's totals, kept with each task write (a count would scan)

# (field, direction) of each listed order; the cursor carries these values of the page's last item
VENUE_ORDER = (("score", DESCENDING), ("_id", ASCENDING))
PLAN_ORDER = (("due_on", ASCENDING), ("_id", ASCENDING))
VISIT_ORDER = (("visited_on", DESCENDING), ("_id", DESCENDING))
TASK_ORDER = (("priority_rank", DESCENDING), ("score", DESCENDING), ("opened_at", ASCENDING), ("_id", ASCENDING))


def _count_key(region: str, state: str, rank: int) -> str:
    return f"{region}|{state}|{rank}"


def count_keys(task: dict | None) -> list[str]:
    if task is None:
        return []
    return [_count_key(r, task["state"], task["priority_rank"]) for r in ("*", *task.get("regions", ()))]


def _index(*fields) -> list:
    return [f for f in fields if f[0] != "_id"]


class OutreachStore(MongoStore):
    def setup(self) -> None:
        super().setup()
        # each listed order's index; the trailing _id tie-break is left out (nx-27017 cannot index _id in a
        # compound index, and ties on every other field are rare enough to be settled after the index)
        self.db[VENUES].create_index(_index(("region", ASCENDING), *VENUE_ORDER))
        self.db[VENUES].create_index(_index(*VENUE_ORDER))
        self.db[VENUES].create_index([("linked_clusters", ASCENDING)])
        self.db[SIGNALS].create_index([("venue_id", ASCENDING)])
        self.db[VISITS].create_index(_index(("state", ASCENDING), *PLAN_ORDER))
        self.db[VISITS].create_index([("venue_id", ASCENDING), ("team_id", ASCENDING), ("state", ASCENDING)])
        self.db[VISITS].create_index(_index(("venue_id", ASCENDING), *VISIT_ORDER))
        self.db[CONTACTS].create_index([("follow_up_id", ASCENDING)])
        self.db[FOLLOW_UPS].create_index([("code_hash", ASCENDING)], unique=True)
        self.db[AD_LINKS].create_index([("cluster_id", ASCENDING)])
        self.db[TASKS].create_index(_index(("state", ASCENDING), *TASK_ORDER))
        self.db[TASKS].create_index(_index(("regions", ASCENDING), ("state", ASCENDING), *TASK_ORDER))

    # -- secrets ---------------------------------------------------------------------------------------------------
    def seal(self, text: str, context: str, field: str) -> str:
        return self.cipher.encrypt(text, context, field)

    def unseal(self, token: str, context: str, field: str) -> str:
        return self.cipher.decrypt(token, context, field)

    def code_hash(self, code: str) -> str:
        return self.pseudonyms.pseudonymise("outreach-follow-up-code", code)

    # -- generic ---------------------------------------------------------------------------------------------------
    def get(self, collection: str, doc_id: str, session=None) -> dict | None:
        return self.db[collection].find_one({"_id": doc_id}, session=session)

    def insert(self, session, collection: str, doc: dict) -> None:
        self.db[collection].insert_one(doc, session=session)

    def update(self, session, collection: str, doc_id: str, changes: dict, expect: dict | None = None) -> bool:
        """Set ``changes`` on the document if it still matches ``expect`` (a conditional update: with two instances
        only one makes a given change)."""
        result = self.db[collection].update_one({"_id": doc_id, **(expect or {})}, {"$set": changes},
                                                session=session)
        return result.modified_count == 1 or result.matched_count == 1

    def find(self, collection: str, query: dict, session=None, sort=None, limit: int = 0,
             fields: tuple[str, ...] | None = None) -> list[dict]:
        projection = None if fields is None else {f: 1 for f in fields}
        cursor = self.db[collection].find(query, projection, session=session)
        if sort:
            cursor = cursor.sort(list(sort))
        if limit:
            cursor = cursor.limit(limit)
        return list(cursor)

    def page(self, collection: str, query: dict, order, first: int, after: str | None) -> dict:
        total = self.db[collection].count_documents(query)
        q = query if after is None else {"$and": [query, after_filter(decode_cursor(after, order), order)]}
        docs = list(self.db[collection].find(q).sort(list(order)).limit(first + 1))
        more, docs = len(docs) > first, docs[:first]
        return {"docs": docs, "cursors": [encode_cursor(d, order) for d in docs], "total": total,
                "has_next_page": more}

    # -- venues and signals ------------------------------------------------------------------------------------------
    def signals_of(self, session, venue_id: str) -> list[dict]:
        return list(self.db[SIGNALS].find({"venue_id": venue_id}, session=session))

    def put_signal(self, session, doc: dict) -> None:
        self.db[SIGNALS].replace_one({"_id": doc["_id"]}, doc, upsert=True, session=session)

    def venues_linked_to(self, session, cluster_id: str) -> list[dict]:
        return list(self.db[VENUES].find({"linked_clusters": cluster_id}, session=session))

    def venue_ids_with_score(self, after_id: str | None, limit: int) -> list[str]:
        query = {"score": {"$gt": 0}}
        if after_id:
            query["_id"] = {"$gt": after_id}
        return [d["_id"] for d in self.db[VENUES].find(query, {"_id": 1}).sort("_id", ASCENDING).limit(limit)]

    # -- visits ------------------------------------------------------------------------------------------------------
    def open_visit(self, session, venue_id: str, team_id: str) -> dict | None:
        found = list(self.db[VISITS].find({"venue_id": venue_id, "team_id": team_id,
                                           "state": {"$in": ["planned", "overdue"]}}, session=session)
                     .sort([("due_on", ASCENDING), ("_id", ASCENDING)]).limit(1))
        return found[0] if found else None

    def due_before(self, day: str, limit: int) -> list[dict]:
        return list(self.db[VISITS].find({"state": "planned", "due_on": {"$lt": day}})
                    .sort(list(PLAN_ORDER)).limit(limit))

    # -- follow-up ---------------------------------------------------------------------------------------------------
    def follow_up_by_code(self, session, code: str) -> dict | None:
        return self.db[FOLLOW_UPS].find_one({"code_hash": self.code_hash(code)}, session=session)

    # -- tasks -------------------------------------------------------------------------------------------------------
    def put_ad_link(self, session, doc: dict) -> dict | None:
        """Store the ad's current cluster and priority; returns what was stored before (None: a new ad)."""
        return self.db[AD_LINKS].find_one_and_replace({"_id": doc["_id"]}, doc, upsert=True, session=session,
                                                      return_document=ReturnDocument.BEFORE)

    def ads_of(self, session, cluster_id: str) -> list[dict]:
        return list(self.db[AD_LINKS].find({"cluster_id": cluster_id}, session=session))

    def write_task(self, session, before: dict | None, after: dict) -> None:
        """Write a task and move its totals: one counter per (state, priority rank) and per region of it."""
        self.db[TASKS].replace_one({"_id": after["_id"]}, after, upsert=True, session=session)
        moves = [(k, -1) for k in count_keys(before)] + [(k, 1) for k in count_keys(after)]
        net: dict[str, int] = {}
        for key, step in moves:
            net[key] = net.get(key, 0) + step
        for key, step in sorted(net.items()):
            if step:
                self.db[TASK_COUNTS].update_one({"_id": key}, {"$inc": {"n": step}}, upsert=True, session=session)

    def count_tasks(self, states, ranks, region: str | None) -> int:
        keys = [_count_key(region or "*", state, rank) for state in states for rank in ranks]
        return sum(d.get("n", 0) for d in self.db[TASK_COUNTS].find({"_id": {"$in": keys}}))

    def task_page(self, query: dict, states, ranks, region: str | None, first: int, after: str | None) -> dict:
        q = query if after is None else {"$and": [query, after_filter(decode_cursor(after, TASK_ORDER), TASK_ORDER)]}
        docs = list(self.db[TASKS].find(q).sort(list(TASK_ORDER)).limit(first + 1))
        more, docs = len(docs) > first, docs[:first]
        return {"docs": docs, "cursors": [encode_cursor(d, TASK_ORDER) for d in docs],
                "total": self.count_tasks(states, ranks, region), "has_next_page": more}

    def push_attempt(self, session, task_id: str, attempt: dict, changes: dict) -> None:
        # the whole list is set in the transaction: nx-27017 stores a $push-ed document as a JSON string
        task = self.db[TASKS].find_one({"_id": task_id}, session=session)
        self.write_task(session, task, {**task, **changes, "attempts": [*task.get("attempts", ()), attempt]})

