"""The base of every service's store: the only code of a service that touches MongoDB extends this class.

It owns the client and the database handle, runs work in one transaction, runs a command once per client request
id (a retry returns the first answer; the same id with other arguments is refused), stages events in the outbox,
and deletes delivery records past their retention.
"""
from __future__ import annotations

import hashlib
import json
from functools import cached_property
from datetime import datetime, timedelta, timezone
from typing import Callable, TypeVar

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError, OperationFailure

from kit import inbox, outbox
from kit.fieldcrypt import FieldCipher
from kit.inputs import InvalidInput, request_id as checked_request_id
from kit.mongo import in_transaction
from kit.pseudonym import Pseudonymiser

T = TypeVar("T")
REQUESTS = "requests"


class Conflict(OperationFailure):
    """A concurrent writer changed the document first; the transaction is retried as a transient error."""

    def __init__(self, what: str) -> None:
        super().__init__(f"concurrent update of {what}", code=112,
                         details={"errorLabels": ["TransientTransactionError"]})

    def has_error_label(self, label: str) -> bool:
        return label == "TransientTransactionError"


class RequestReused(InvalidInput):
    def __init__(self, method: str) -> None:
        super().__init__(f"this request_id was already used for a different {method} call; use a new one for a new "
                         "command and the same one only to retry the same command", "request_id",
                         "request_id_reused")


def utc(moment: datetime) -> datetime:
    """Every stored time is UTC; the local MongoDB-wire server may hand back naive datetimes."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def now() -> datetime:
    return datetime.now(timezone.utc)


def fingerprint(arguments: dict) -> str:
    """The arguments a request id is bound to, as a digest (stored instead of the arguments: they may be personal)."""
    canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class MongoStore:
    def __init__(self, client, db, outbox_, settings) -> None:
        self.client, self.db, self.outbox, self.settings = client, db, outbox_, settings

    @cached_property
    def cipher(self) -> FieldCipher:
        """Field encryption at rest (NOTES_ENCRYPTION_KEY), bound to record and field (kit.fieldcrypt)."""
        return FieldCipher(self.settings.require("notes_key"))

    @cached_property
    def pseudonyms(self) -> Pseudonymiser:
        """Keyed pseudonyms by purpose (PSEUDONYM_KEY)."""
        return Pseudonymiser(self.settings.require("pseudonym_key"))

    def setup(self) -> None:
        """Indexes of the kit's collections; a service's store adds its own and calls this first."""
        self.db[REQUESTS].create_index([("at", ASCENDING)])
        self.db[inbox.COLLECTION].create_index([("handledAt", ASCENDING)])

    def ping(self) -> None:
        self.db.command("ping")

    # -- transactions and idempotency ----------------------------------------------------------------------------
    def transaction(self, work: Callable[[object], T]) -> T:
        return in_transaction(self.client, work)

    def run_once(self, method: str, request_id: object, arguments: dict, work: Callable[[object], T]) -> T:
        """Run ``work`` in a transaction unless this request already ran; then return that run's result.

        ``arguments`` are the command's checked arguments: a request id names one command, so a reuse with other
        arguments is refused instead of answering with another command's result.
        """
        rid = checked_request_id(request_id)
        if rid is None:
            return self.transaction(work)
        key, digest = f"{method}:{rid}", fingerprint(arguments)

        def once(session):
            done = self.db[REQUESTS].find_one({"_id": key}, session=session)
            if done is not None:
                return self._replay(done, method, digest)
            result = work(session)
            self.db[REQUESTS].insert_one({"_id": key, "result": result, "arguments": digest, "at": now()},
                                         session=session)
            return result
        try:
            return self.transaction(once)
        except DuplicateKeyError:
            # the same request ran concurrently (a redelivery) and committed first: answer as it did
            return self._replay(self.db[REQUESTS].find_one({"_id": key}), method, digest)

    @staticmethod
    def _replay(done: dict, method: str, digest: str):
        if done.get("arguments") not in (None, digest):
            raise RequestReused(method)
        return done["result"]

    def handle_once(self, consumer: str, event: dict, effect: Callable[[object], None],
                    whole_stream: bool = False) -> bool:
        """Apply ``effect`` unless ``consumer`` already handled this event: inbox row and effect in one transaction
        (``whole_stream``: see kit.inbox.handle_once)."""
        return inbox.handle_once(self.client, self.db, consumer, event, effect, whole_stream)

    # -- events ----------------------------------------------------------------------------------------------------
    def emit(self, session, event_type: str, subject: str, data: dict) -> None:
        self.outbox.add(session, event_type, subject, data)

    def emit_many(self, session, events: list[tuple[str, str, dict]]) -> None:
        self.outbox.add_many(session, events)

    # -- retention -------------------------------------------------------------------------------------------------
    def purge_expired(self, at: datetime | None = None) -> dict[str, int]:
        """Delete sent outbox rows, inbox rows and request records older than their retention settings."""
        at = at or now()
        s = self.settings
        cutoffs = {
            outbox.COLLECTION: ({"status": outbox.SENT, "sentAt": {"$lt": at - timedelta(days=s.outbox_retention_days)}}),
            inbox.COLLECTION: {"handledAt": {"$lt": at - timedelta(days=s.inbox_retention_days)}},
            REQUESTS: {"at": {"$lt": at - timedelta(days=s.request_retention_days)}},
        }
        return {name: self.db[name].delete_many(query).deleted_count for name, query in cutoffs.items()}
