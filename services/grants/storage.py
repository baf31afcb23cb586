"""The grants service's own MongoDB database: organisations, applications, the pool ledger and its events.

Every command runs in one transaction that writes the state change, the ledger entries and the outbox rows
together, plus the idempotency record of the request, so a redelivered RPC request has no second effect.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, TypeVar

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError, OperationFailure

from kit.fieldcrypt import FieldCipher
from kit.mongo import in_transaction
from kit.outbox import order_key
from services.grants import codec
from services.grants.domain.applications import Application
from services.grants.domain.balances import Balances
from services.grants.domain.events import DomainEvent
from services.grants.domain.organisations import Directory, Organisation

T = TypeVar("T")


class Conflict(OperationFailure):
    """A concurrent writer changed the document first; the transaction is retried as a transient error."""

    def __init__(self, what: str) -> None:
        super().__init__(f"concurrent update of {what}", code=112,
                         details={"errorLabels": ["TransientTransactionError"]})

    def has_error_label(self, label: str) -> bool:
        return label == "TransientTransactionError"


class GrantsStore:
    def __init__(self, client, db, outbox, settings) -> None:
        self.client, self.db, self.outbox, self.settings = client, db, outbox, settings
        self.cipher = FieldCipher(settings.require("notes_key"))

    def setup(self) -> None:
        self.db.applications.create_index([("pool_code", ASCENDING), ("state", ASCENDING)])
        self.db.applications.create_index([("applicant_id", ASCENDING)])
        self.db.grant_balances.create_index([("pool", ASCENDING)])
        self.db.ledger_events.create_index([("order", ASCENDING)])
        self.db.obligations.create_index([("grant_id", ASCENDING)])

    # -- transactions and idempotency ----------------------------------------------------------------------------
    def transaction(self, work: Callable[[object], T]) -> T:
        return in_transaction(self.client, work)

    def run_once(self, request_key: str | None, work: Callable[[object], T]) -> T:
        """Run ``work`` in a transaction unless ``request_key`` already ran; then return that run's result."""
        if request_key is None:
            return self.transaction(work)

        def once(session):
            done = self.db.requests.find_one({"_id": request_key}, session=session)
            if done is not None:
                return done["result"]
            result = work(session)
            self.db.requests.insert_one({"_id": request_key, "result": result,
                                         "at": datetime.now(timezone.utc)}, session=session)
            return result
        try:
            return self.transaction(once)
        except DuplicateKeyError:
            return self.db.requests.find_one({"_id": request_key})["result"]

    # -- events ----------------------------------------------------------------------------------------------------
    def emit(self, session, event: DomainEvent, data: dict | None = None) -> None:
        self.outbox.add(session, event.type, event.subject, data if data is not None else event.as_dict()["data"])

    def record_ledger(self, session, events: list[DomainEvent]) -> None:
        """Ledger events are kept apart from the outbox as the record balances can be recomputed from."""
        for event in events:
            plain = event.as_dict()
            data = {k: v for k, v in plain["data"].items() if k != "reason"}  # free text stays out of Kafka
            stored = dict(data)
            if plain["data"].get("reason"):
                stored["reason"] = self.cipher.encrypt(plain["data"]["reason"], f"ledger/{event.subject}")
            self.db.ledger_events.insert_one({"order": order_key(), **plain, "data": stored}, session=session)
            self.emit(session, event, data)

    def ledger_events(self) -> list[dict]:
        return list(self.db.ledger_events.find({}, {"_id": 0}).sort("order", ASCENDING))

    # -- organisations ---------------------------------------------------------------------------------------------
    def save_organisation(self, session, org: Organisation) -> None:
        self.db.organisations.replace_one({"_id": org.id}, codec.organisation_doc(org), upsert=True,
                                          session=session)

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

    def application_docs(self, query: dict) -> list[dict]:
        return list(self.db.applications.find(query, {"assessment_notes": 0}).sort("_id", ASCENDING))

    # -- obligations -----------------------------------------------------------------------------------------------
    def save_obligations(self, session, obligations) -> None:
        for ob in obligations:
            self.db.obligations.replace_one({"_id": ob.id}, codec.obligation_doc(ob), upsert=True, session=session)

    def obligations(self, query: dict | None = None, session=None):
        return [codec.obligation(d) for d in self.db.obligations.find(query or {}, session=session).sort("_id", 1)]

    # -- ledger balances -------------------------------------------------------------------------------------------
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
