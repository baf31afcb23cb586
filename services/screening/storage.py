"""Screening's own database. Every method takes the transaction's session where it writes; lists are keyset pages
on the index of their order."""
from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from kit.keyset import after_filter, decode_cursor, encode_cursor  # noqa: F401 (queries use encode_cursor)
from kit.storage import MongoStore

SCREENINGS, INSPECTIONS, CONSENT_LOG = "screenings", "joint_inspections", "consent_log"
OVERRIDES, REFERRALS = "overrides", "referrals"

# (field, direction) of each listed order; a cursor carries these values of the page's last item
SCREENING_ORDER = (("screened_on", DESCENDING), ("_id", DESCENDING))
REFERRAL_ORDER = (("requested_at", DESCENDING), ("_id", DESCENDING))
OPEN_REFERRAL_STATES = ("requested", "received", "accepted")


class ScreeningStore(MongoStore):
    def setup(self) -> None:
        super().setup()
        # nx-27017 cannot index _id inside a compound index: the trailing tie-break is left to the sort
        self.db[SCREENINGS].create_index([("organisation", ASCENDING), ("screened_on", DESCENDING)])
        self.db[SCREENINGS].create_index([("deadline_open", ASCENDING)])
        self.db[REFERRALS].create_index([("recipient", ASCENDING), ("requested_at", DESCENDING)])
        self.db[REFERRALS].create_index([("screening_id", ASCENDING)])
        self.db[REFERRALS].create_index([("state", ASCENDING)])
        self.db[CONSENT_LOG].create_index([("screening_id", ASCENDING), ("at", ASCENDING)])

    # -- sealing ---------------------------------------------------------------------------------------------------
    def seal(self, plaintext: str, context: str, field: str) -> str:
        return self.cipher.encrypt(plaintext, context, field)

    def unseal(self, token: str, context: str, field: str) -> str:
        return self.cipher.decrypt(token, context, field)

    def subject_ref(self, agency: str, screening_id: str) -> str:
        """The agency's own pseudonym of a screening: stable per agency, different between agencies."""
        return self.pseudonyms.pseudonymise(f"partner-{agency}", screening_id)

    # -- reads and writes --------------------------------------------------------------------------------------------
    def get(self, collection: str, doc_id: str, session=None) -> dict | None:
        return self.db[collection].find_one({"_id": doc_id}, session=session)

    def insert(self, session, collection: str, doc: dict) -> None:
        self.db[collection].insert_one(doc, session=session)

    def replace(self, session, collection: str, doc: dict) -> None:
        self.db[collection].replace_one({"_id": doc["_id"]}, doc, session=session)

    def set_if(self, session, collection: str, doc_id: str, expected: dict, changes: dict) -> bool:
        """Change a document only while it still holds ``expected``: two instances never both win."""
        done = self.db[collection].update_one({"_id": doc_id, **expected}, {"$set": changes}, session=session)
        return done.modified_count == 1

    def find(self, collection: str, query: dict, session=None, limit: int = 0, sort=None) -> list[dict]:
        cursor = self.db[collection].find(query, session=session)
        if sort:
            cursor = cursor.sort(list(sort))
        if limit:
            cursor = cursor.limit(limit)
        return list(cursor)

    def page(self, collection: str, query: dict, order, first: int, after: str | None) -> tuple[list[dict], bool]:
        if after:
            query = {"$and": [query, after_filter(decode_cursor(after, order), order)]}
        docs = list(self.db[collection].find(query).sort(list(order)).limit(first + 1))
        return docs[:first], len(docs) > first
