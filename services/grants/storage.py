"""The grants service's own MongoDB database: organisations, applications, obligations, the pool ledger and its events.

The only grants module that touches MongoDB. Commands write the state change, the ledger entries and the outbox rows
in one transaction (``run_once`` of kit.storage), so a redelivered request has no second effect.
"""
from __future__ import annotations

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from kit.fieldcrypt import FieldCipher
from kit.outbox import order_key
from kit.storage import Conflict, MongoStore
from services.grants import codec
from services.grants.domain.applications import Application, State
from services.grants.domain.balances import Balances, GrantBalance
from services.grants.domain.events import DomainEvent
from services.grants.domain.obligations import Obligation
from services.grants.domain.organisations import Directory, Organisation

__all__ = ["Conflict", "GrantsStore"]


class GrantsStore(MongoStore):
    def __init__(self, client, db, outbox, settings) -> None:
        super().__init__(client, db, outbox, settings)
        self.cipher = FieldCipher(settings.require("notes_key"))

    def setup(self) -> None:
        super().setup()
        self.db.applications.create_index([("pool_code", ASCENDING), ("state", ASCENDING)])
        self.db.applications.create_index([("applicant_id", ASCENDING)])
        self.db.grant_balances.create_index([("pool", ASCENDING)])
        self.db.ledger_events.create_index([("order", ASCENDING)])
        self.db.obligations.create_index([("grant_id", ASCENDING)])

    # -- events ----------------------------------------------------------------------------------------------------
    def emit_event(self, session, event: DomainEvent, data: dict | None = None) -> None:
        """Stage a domain event; ``data`` replaces the event's own when the command adds context to it."""
        self.emit(session, event.type, event.subject, data if data is not None else event.as_dict()["data"])

    def record_ledger(self, session, events: list[DomainEvent]) -> None:
        """Ledger events are kept apart from the outbox as the record balances can be recomputed from."""
        outgoing = []
        for event in events:
            plain = event.as_dict()
            data = {k: v for k, v in plain["data"].items() if k != "reason"}  # free text stays out of Kafka
            stored = dict(data)
            if plain["data"].get("reason"):
                stored["reason"] = self.cipher.encrypt(plain["data"]["reason"], f"ledger/{event.subject}",
                                                       "ledger_events.reason")
            self.db.ledger_events.insert_one({"order": order_key(), **plain, "data": stored}, session=session)
            outgoing.append((event.type, event.subject, data))
        self.emit_many(session, outgoing)

    def ledger_events(self, session=None) -> list[dict]:
        return list(self.db.ledger_events.find({}, {"_id": 0}, session=session).sort("order", ASCENDING))

    def ledger_opened(self) -> bool:
        return self.db.pools.find_one() is not None

    def open_ledger(self, balances: Balances, events: list[DomainEvent]) -> None:
        """Write the opening balances and their events once, whichever instance starts first."""
        def work(session):
            self.save_balances(session, balances, {})
            self.record_ledger(session, events)
        try:
            self.transaction(work)
        except DuplicateKeyError:
            pass  # another instance opened it first

    # -- organisations ---------------------------------------------------------------------------------------------
    def insert_organisation(self, session, org: Organisation, history: list) -> None:
        try:
            self.db.organisations.insert_one(codec.organisation_doc(org, 1, history), session=session)
        except DuplicateKeyError:
            raise Conflict(f"organisation {org.id}") from None  # registered concurrently: the retry finds it

    def organisation_record(self, org_id: str, session=None) -> tuple[Organisation, int, list] | None:
        """The organisation, its version and its history of changes."""
        doc = self.db.organisations.find_one({"_id": org_id}, session=session)
        if doc is None:
            return None
        return codec.organisation(doc), doc.get("version", 1), list(doc.get("history", ()))

    def save_organisation(self, session, org: Organisation, version: int, history: list) -> None:
        """Write a changed organisation over ``version`` (version-checked: a concurrent change retries)."""
        result = self.db.organisations.replace_one({"_id": org.id, "version": version},
                                                   codec.organisation_doc(org, version + 1, history),
                                                   session=session)
        if result.matched_count != 1:
            raise Conflict(f"organisation {org.id}")

    def applications_naming(self, org_id: str, session=None) -> list[tuple[str, str, str]]:
        """(application id, state, 'applicant' or 'knowledge_partner') of every application naming the
        organisation."""
        docs = self.db.applications.find({"$or": [{"applicant_id": org_id}, {"knowledge_partner_id": org_id}]},
                                         {"_id": 1, "state": 1, "applicant_id": 1, "knowledge_partner_id": 1},
                                         session=session)
        found = []
        for d in docs:
            if d["applicant_id"] == org_id:
                found.append((d["_id"], d["state"], "applicant"))
            if d.get("knowledge_partner_id") == org_id:
                found.append((d["_id"], d["state"], "knowledge_partner"))
        return found

    def organisation(self, org_id: str, session=None) -> Organisation | None:
        doc = self.db.organisations.find_one({"_id": org_id}, session=session)
        return codec.organisation(doc) if doc else None

    def directory(self, ids, session=None) -> Directory:
        docs = self.db.organisations.find({"_id": {"$in": [i for i in ids if i]}}, session=session)
        return Directory(codec.organisation(d) for d in docs)

    def organisations(self) -> list[Organisation]:
        return [codec.organisation(d) for d in self.db.organisations.find().sort("_id", ASCENDING)]

    # -- applications ----------------------------------------------------------------------------------------------
    def load_application(self, app_id: str, session=None) -> tuple[Application, int] | None:
        doc = self.db.applications.find_one({"_id": app_id}, session=session)
        return (codec.application(doc, self.cipher), doc["version"]) if doc else None

    def insert_application(self, session, app: Application) -> None:
        self.db.applications.insert_one(codec.application_doc(app, self.cipher, 1), session=session)

    def save_application(self, session, app: Application, version: int) -> None:
        result = self.db.applications.replace_one({"_id": app.id, "version": version},
                                                  codec.application_doc(app, self.cipher, version + 1),
                                                  session=session)
        if result.matched_count != 1:
            raise Conflict(f"application {app.id}")

    def application_docs(self, *, application_id: str | None = None, pool_code: str | None = None,
                         state: str | None = None, applicant_id: str | None = None) -> list[dict]:
        """Stored applications matching every filter given, without their (encrypted) notes: ``note_count`` says
        how many there are."""
        filters = (("_id", application_id), ("pool_code", pool_code), ("state", state),
                   ("applicant_id", applicant_id))
        query = {k: v for k, v in filters if v is not None}
        # the ciphertext is not asked for (nx-27017 ignores the dotted projection, so it is also dropped here)
        docs = list(self.db.applications.find(query, {"assessment_notes.text": 0}).sort("_id", ASCENDING))
        for doc in docs:
            doc["note_count"] = len(doc.pop("assessment_notes", None) or ())
        return docs

    def applications_in(self, states: tuple[State, ...]) -> list[Application]:
        """Applications in these states, rebuilt without a cipher: their notes and reasons stay encrypted."""
        docs = self.db.applications.find({"state": {"$in": [s.value for s in states]}})
        return [codec.application(d) for d in docs]

    # -- obligations -----------------------------------------------------------------------------------------------
    def save_obligations(self, session, obligations) -> None:
        for ob in obligations:
            self.db.obligations.replace_one({"_id": ob.id}, codec.obligation_doc(ob), upsert=True, session=session)

    def obligation(self, obligation_id: str, session=None) -> list[Obligation]:
        """The obligation with this id as a list of at most one (the domain's ``fulfil`` looks it up there)."""
        return self._obligations({"_id": obligation_id}, session)

    def obligations_of(self, grant_id: str, session=None) -> list[Obligation]:
        return self._obligations({"grant_id": grant_id}, session)

    def unreported_obligations(self, session=None) -> list[Obligation]:
        """Obligations neither fulfilled nor yet reported overdue: the candidates of the overdue check."""
        return self._obligations({"fulfilled_on": None, "overdue_reported": False}, session)

    def _obligations(self, query: dict, session=None) -> list[Obligation]:
        return [codec.obligation(d) for d in self.db.obligations.find(query, session=session).sort("_id", 1)]

    # -- ledger balances -------------------------------------------------------------------------------------------
    def grant_balance(self, grant_id: str, session=None) -> GrantBalance | None:
        doc = self.db.grant_balances.find_one({"_id": grant_id}, session=session)
        return codec.grant_balance(doc) if doc else None

    def grant_balances(self, grant_ids: list[str]) -> list[GrantBalance]:
        return [codec.grant_balance(d) for d in self.db.grant_balances.find({"_id": {"$in": grant_ids}})]

    def balances(self, session=None, pools: list[str] | None = None) -> tuple[Balances, dict[str, int]]:
        """Balances of the given pools (all when None) and their grants, with each pool's version."""
        pool_query = {} if pools is None else {"_id": {"$in": pools}}
        pool_docs = list(self.db.pools.find(pool_query, session=session))
        grant_query = {} if pools is None else {"pool": {"$in": pools}}
        balances = Balances(pools={d["_id"]: codec.pool_balance(d) for d in pool_docs},
                            grants={d["_id"]: codec.grant_balance(d)
                                    for d in self.db.grant_balances.find(grant_query, session=session)})
        return balances, {d["_id"]: d["version"] for d in pool_docs}

    def save_balances(self, session, balances: Balances, versions: dict[str, int]) -> None:
        """Write pools with a version check (a concurrent award retries) and their grants' balances."""
        for code, balance in balances.pools.items():
            version = versions.get(code)
            if version is None:
                self.db.pools.insert_one(codec.pool_doc(balance, 1), session=session)
                continue
            result = self.db.pools.replace_one({"_id": code, "version": version},
                                               codec.pool_doc(balance, version + 1), session=session)
            if result.matched_count != 1:
                raise Conflict(f"pool {code}")
        for grant in balances.grants.values():
            self.db.grant_balances.replace_one({"_id": grant.grant_id}, codec.grant_doc(grant), upsert=True,
                                               session=session)
