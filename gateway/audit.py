"""The gateway's access log: who ran which GraphQL operation, and which data subjects it touched.

It is the only data the gateway owns, kept in the gateway's own database through PyMongo's asyncio client. Rows
hold time, principal (subject, role, organisation, region), operation type, root field names, transport, status,
trace id and at most one pseudonymous data subject (kind + id), never variables, literal values or results.

Interface (what the edge, ``gateway/app.py``, calls)
====================================================

``log = AccessLog(settings)``; construct it inside the running event loop (the ASGI lifespan).

``entry = await log.open(principal, operation_type, fields, transport)``
    Before execution. ``principal``: ``kit.principal.Principal`` (``subject``, ``role``, ``organisation``,
    ``region``) or ``None`` for an anonymous caller; ``operation_type``: ``"query"``, ``"mutation"`` or
    ``"subscription"`` from the server's parse; ``fields``: the root field names resolved (not aliases, not the
    client's ``operationName``; ``operation_fields(document)`` below computes both from the parsed document);
    ``transport``: ``"http"`` or ``"websocket"``. An optional keyword ``trace_id`` overrides the current span's.
    For an operation on personal data (``log.personal(fields)``) ``open`` writes an ``open`` row and returns only
    once it is durable; it raises ``AccessLogUnavailable`` when it cannot (database unreachable, write timeout
    ``ACCESS_LOG_WRITE_TIMEOUT_SECONDS``, or the backlog is full). The gateway then refuses the operation (fail
    closed). For other operations ``open`` writes nothing and never raises ``AccessLogUnavailable``.

``log.personal(fields) -> bool``
    True unless every root field is published reference data (``PUBLIC_FIELDS``): deny by default, a new field is
    personal until it is listed there.

``await log.close(entry, status, subjects)``
    After execution. ``status``: a short code (``ok``, ``error``, ``denied``, an error code...); ``subjects``: the
    set of ``(kind, id)`` the operation touched (``info.context["subjects"]``, filled by ``SubjectMiddleware``).
    Writes one ``close`` row per subject (one row without a subject when there is none) and returns once they are
    durable; raises ``AccessLogUnavailable`` if they could not be written in time (they stay queued while the
    backlog has room). A personal-data result should not be delivered then. The row of a public operation that
    touched no subject is queued without waiting (dropped, counted in ``lost`` and logged, when the backlog is full).

``await log.ping()``, ``await log.close_client()`` (flushes what is queued, briefly, then closes the client).

``SubjectMiddleware``: graphql-core middleware (``middleware=[SubjectMiddleware()]``): for every resolved object of
a subject type (``SUBJECT_TYPES``, by GraphQL type name) it adds ``(kind, id)`` to ``info.context["subjects"]``;
for the few root fields whose answer carries no id (``ARGUMENT_SUBJECTS``) it adds the argument's id once the
resolver answered something (never for an error or an empty answer, so a typed-in value is never logged).

The DPO reads it through ``entries_for_subject`` / ``entries_for_principal`` (GraphQL: ``gateway/access_log.py``,
which finds the log as ``info.context["access_log"]``).

Chain
=====
One hash chain per gateway database. Each row carries its sequence number ``seq`` (1, 2, ...; also its ``_id``);
``hash`` is SHA-256 of the row's canonical JSON (every field but ``hash``, including ``seq`` and ``prev``, the
previous row's hash). A head document (``access_log_head``, ``_id: "chain"``) holds the last sequence number and
hash. A writer appends a batch in ONE transaction: read the head, link the rows, insert them, and move the head
with a compare-and-set on the (seq, hash) it read. Two gateway instances that race both read the same head; one commit
wins, the other's compare-and-set (or the unique ``seq`` of its first row) fails and it relinks on the new head, so
there is never a fork and no per-instance bookkeeping. The head also makes truncation of the newest rows visible.
``python -m gateway.audit verify`` recomputes every hash in sequence order and exits 1 naming the first broken row
(edited, deleted, reordered, or missing at the end); 0 when the chain holds.

An attacker who can write the database AND recompute every later hash could rewrite the tail; to detect that, keep
the head that ``verify`` prints (seq and hash) outside the database now and then (a ticket, the operator's log), and
give the gateway a database user that may only insert into these collections.

Writes go through one writer task per process, grouping the rows of concurrent operations into one transaction (at
most ``ACCESS_LOG_BATCH_SIZE`` rows). Rows waiting for it are the in-memory backlog, bounded by
``ACCESS_LOG_BACKLOG``: when it is full, or the writer is failing and rows are already waiting, ``open`` raises for
personal-data operations instead of queueing more.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import re
import sys
import uuid
from collections import deque
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime, timezone
from inspect import isawaitable
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from graphql import DocumentNode, FieldNode, FragmentSpreadNode, InlineFragmentNode
from graphql.utilities import get_operation_ast
from opentelemetry import trace
from pymongo import AsyncMongoClient
from pymongo.errors import BulkWriteError, DuplicateKeyError

from kit.settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from kit.principal import Principal

log = logging.getLogger("actionplan.gateway.audit")

ROWS, HEAD = "access_log_rows", "access_log_head"
HEAD_ID = "chain"
GENESIS = "0" * 64
VERSION = 1
OPERATION_TYPES = ("query", "mutation", "subscription")

# Root fields that serve only published reference data or aggregates: everything else touches personal data.
PUBLIC_FIELDS = frozenset({"actionPlan", "pools", "evaluation", "adRulesets", "grants360giving", "grantsCsv",
                           "outreachReference", "triageOutcomes", "outreachActivity", "screeningInstruments",
                           "screeningInstrument", "industrySectors", "__typename", "__schema",
                           "__type"})

# GraphQL object type -> the (subject kind, key of the resolved object) it identifies. The ONE table of subjects.
SUBJECT_TYPES: dict[str, tuple[tuple[str, str], ...]] = {
    "GrantApplication": (("application", "id"),),
    "Attribution": (("application", "grant_id"),),      # a grant's id is its application's id
    "Obligation": (("application", "grant_id"),),
    "Organisation": (("organisation", "id"),),
    "OrganisationSummary": (("organisation", "id"),),
    "TriageAd": (("ad", "ad_key"),),
    "TriageItem": (("cluster", "cluster_id"), ("ad", "best_ad_key")),   # a queue item is a cluster
    "ClusterAd": (("ad", "ad_key"),),
    "AdRecordResult": (("ad", "ad_key"), ("quarantined_ad", "quarantine_id")),
    "QuarantinedAd": (("quarantined_ad", "quarantine_id"), ("ad", "ad_key")),
    "AdCluster": (("cluster", "cluster_id"),),
    "Person": (("person", "id"),),
    # outreach (gateway/outreach.py): venues (label, address), visits, contacts and tasks concern possible victims
    "Venue": (("venue", "venue_id"),),
    "VenueAddress": (("venue", "venue_id"),),
    "VenueConcern": (("venue", "venue_id"),),
    "Visit": (("visit", "visit_id"), ("venue", "venue_id")),
    "NextVisit": (("visit", "visit_id"),),
    "OutreachTask": (("outreach_task", "task_id"), ("cluster", "cluster_id")),
    "OutreachAttempt": (("contact", "contact_id"),),
    "ContactRecorded": (("contact", "contact_id"), ("venue", "venue_id"), ("visit", "visit_id"),
                        ("outreach_task", "task_id")),
    "IdentificationTalkRecorded": (("contact", "contact_id"), ("venue", "venue_id"), ("outreach_task", "task_id")),
    "FollowUp": (("follow_up", "follow_up_id"),),   # the pseudonymous link id, never the code the person keeps
    "FollowUpContact": (("contact", "contact_id"), ("venue", "venue_id"), ("outreach_task", "task_id")),
    # screening (gateway/screening.py): a screening is about one person; referrals and consent carry its id
    "Screening": (("screening", "screening_id"),),
    "ScreeningAnswers": (("screening", "screening_id"),),
    "Consent": (("screening", "screening_id"),),
    "Referral": (("referral", "referral_id"), ("screening", "screening_id")),
}
# (parent type, root field) whose answer names no subject of its own: the subject is this argument.
ARGUMENT_SUBJECTS: dict[tuple[str, str], Callable[[Mapping[str, Any]], tuple[str, Any] | None]] = {
    ("Query", "assessmentNotes"): lambda a: ("application", a.get("application_id")),
    ("Mutation", "assignTriageItem"): lambda a: ("cluster", a.get("cluster_id")),
    ("Mutation", "moveTriageItem"): lambda a: ("cluster", a.get("cluster_id")),
    ("Mutation", "closeTriageItem"): lambda a: ("cluster", a.get("cluster_id")),
    ("Query", "accessLogForSubject"): lambda a: (a.get("kind"), a.get("id")),
    ("Mutation", "linkClusterToVenue"): lambda a: ("cluster", a.get("cluster_id")),
    ("Query", "consentHistory"): lambda a: ("screening", a.get("screening_id")),
    ("Query", "consentOverrides"): lambda a: ("screening", a.get("screening_id")),
}
SUBJECT_KINDS = frozenset(kind for kinds in SUBJECT_TYPES.values() for kind, _ in kinds)

_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
_TOKEN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_FIELDS = 64
MAX_ID = 200


class AccessLogUnavailable(RuntimeError):
    """The access log could not be written (in time): operations on personal data must not run."""


class ChainConflict(RuntimeError):
    """Another writer moved the chain head first; relink on the new head."""


class ChainBroken(RuntimeError):
    """The stored chain is not in a state a writer may append to (its head is missing)."""


# -- rows and the chain ----------------------------------------------------------------------------------------

def _now() -> datetime:
    # MongoDB keeps milliseconds: cut them here so the hash of a row read back equals the hash written
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _iso(at) -> str:
    if isinstance(at, datetime):
        if at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)
        return at.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    return str(at)


HASHED = ("v", "seq", "prev", "at", "op", "phase", "principal", "role", "organisation", "region", "operationType",
          "fields", "transport", "status", "traceId", "subject")


def canonical(row: Mapping[str, Any]) -> bytes:
    """The bytes a row's hash covers: every field but the hash itself (``_id`` is a copy of ``seq``)."""
    content = {name: row.get(name) for name in HASHED}
    content["at"] = _iso(row.get("at"))
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def row_hash(row: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


def link(docs: Iterable[Mapping[str, Any]], seq: int, prev: str) -> list[dict]:
    """Copies of ``docs`` chained after the row (seq, prev): numbered seq+1, ... each with prev and hash."""
    rows = []
    for doc in docs:
        seq += 1
        row = {**doc, "_id": seq, "seq": seq, "prev": prev}
        row["hash"] = prev = row_hash(row)
        rows.append(row)
    return rows


@dataclass
class Verdict:
    ok: bool
    rows: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"access log verified: {self.rows} rows, head seq {self.head_seq} hash {self.head_hash}"
        return f"access log chain broken at row {self.broken_seq}: {self.reason}"


class ChainCheck:
    """Fed the rows in ascending ``seq`` order, stops at the first break; ``finish`` compares the end with the head."""

    def __init__(self) -> None:
        self.expected, self.prev, self.count = 1, GENESIS, 0
        self.verdict: Verdict | None = None

    def _broken(self, seq, reason: str) -> Verdict:
        self.verdict = Verdict(False, self.count, self.expected - 1, self.prev, seq, reason)
        return self.verdict

    def feed(self, row: Mapping[str, Any]) -> Verdict | None:
        """None while the chain holds; the verdict naming the first broken row otherwise."""
        if self.verdict is not None:
            return self.verdict
        seq, expected = row.get("seq"), self.expected
        if not isinstance(seq, int) or isinstance(seq, bool):
            return self._broken(expected, f"a row without a sequence number ({seq!r}) stands in the chain")
        if seq > expected:
            missing = f"row {expected}" if seq == expected + 1 else f"rows {expected}-{seq - 1}"
            return self._broken(expected, f"{missing} missing (deleted or renumbered); the next row is {seq}")
        if seq < expected:
            return self._broken(seq, f"row {seq} appears twice or out of order")
        if row.get("prev") != self.prev:
            return self._broken(seq, "its prev is not the hash of the row before it (rows deleted, moved or "
                                     "reordered)")
        if row.get("hash") != row_hash(row):
            return self._broken(seq, "its content does not match its hash (edited)")
        self.prev, self.expected, self.count = row["hash"], seq + 1, self.count + 1
        return None

    def finish(self, head: Mapping[str, Any] | None) -> Verdict:
        if self.verdict is not None:
            return self.verdict
        last = self.expected - 1
        if head is None:
            if self.count:
                return self._broken(last, "the chain head document is missing")
            return Verdict(True, 0, 0, GENESIS)
        head_seq = head.get("seq")
        if isinstance(head_seq, int) and head_seq > last:
            return self._broken(last + 1, f"the head records row {head_seq} but the chain ends at row {last} "
                                          "(newest rows deleted)")
        if head_seq != last or head.get("hash") != self.prev:
            return self._broken(last, "the head does not match the last row (head or row edited)")
        return Verdict(True, self.count, last, self.prev)


def verify_rows(rows: Iterable[Mapping[str, Any]], head: Mapping[str, Any] | None) -> Verdict:
    """Check rows (ascending ``seq``, up to the head's seq) against each other and the head."""
    check = ChainCheck()
    for row in rows:
        if check.feed(row) is not None:
            break
    return check.finish(head)


# -- storage -----------------------------------------------------------------------------------------------------

class MongoChain:
    """The two collections behind the log, on the gateway's own database."""

    def __init__(self, settings: Settings, client: AsyncMongoClient | None = None) -> None:
        timeout_ms = int(max(0.5, settings.access_log_write_timeout_s) * 1000)
        # bounded waits everywhere: a stalled server must make writes fail (and operations fail closed), not hang
        self.client = client or AsyncMongoClient(
            settings.mongo_uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms,
            socketTimeoutMS=max(10000, 3 * timeout_ms), tz_aware=True, appname="gateway")
        db = self.client[settings.database]
        self.rows, self.head = db[ROWS], db[HEAD]
        self._indexed = False
        # (seq, hash) of the head this process moved last: the next append links on it without reading the head.
        # When another instance moved the head since, the compare-and-set (or a row's unique seq) fails, and the
        # append reads the head again: a stale one costs a retry, never a fork.
        self._known_head: tuple[int, str] | None = None

    async def _ensure_indexes(self) -> None:
        if not self._indexed:
            # (the local MongoDB-wire server can neither index _id in a compound index nor sort _id numerically:
            # rows carry their sequence number twice, as _id for uniqueness and as seq for order)
            await self.rows.create_index([("seq", 1)], unique=True)
            await self.rows.create_index([("subject.kind", 1), ("subject.id", 1)])
            await self.rows.create_index([("principal", 1)])
            self._indexed = True

    async def append(self, docs: list[dict]) -> list[dict]:
        """Link ``docs`` after the current head and store them with the head's move, in one transaction."""
        await self._ensure_indexes()
        for _attempt in range(20):
            async with self.client.start_session() as session:
                known, self._known_head = self._known_head, None  # trusted again only once this one commits
                try:
                    rows = await session.with_transaction(lambda s: self._append(s, docs, known))
                except (ChainConflict, DuplicateKeyError):
                    await asyncio.sleep(0 if known else 0.005)  # a stale head known here: read it at once
                    continue
                self._known_head = (rows[-1]["seq"], rows[-1]["hash"])
                return rows
        raise ChainConflict("the chain head kept moving; giving up for now")

    async def _append(self, session, docs: list[dict], known: tuple[int, str] | None = None) -> list[dict]:
        if known is not None:
            head = {"seq": known[0], "hash": known[1]}
        else:
            head = await self.head.find_one({"_id": HEAD_ID}, session=session)
            if head is None and await self.rows.find_one({}, {"_id": 1}, session=session) is not None:
                raise ChainBroken("the access log has rows but no chain head; run `python -m gateway.audit verify`")
        seq, prev = (head["seq"], head["hash"]) if head else (0, GENESIS)
        rows = link(docs, seq, prev)
        try:
            await self.rows.insert_many(rows, ordered=True, session=session)
        except BulkWriteError as exc:  # a row of that number exists: another writer linked after this head
            errors = exc.details.get("writeErrors") or []
            if errors and all(e.get("code") == 11000 for e in errors):
                raise ChainConflict("rows were linked after the head this writer knew") from None
            raise
        moved = {"seq": rows[-1]["seq"], "hash": rows[-1]["hash"], "at": rows[-1]["at"]}
        if head is None:
            await self.head.insert_one({"_id": HEAD_ID, **moved}, session=session)
        else:
            done = await self.head.update_one({"_id": HEAD_ID, "seq": seq, "hash": prev}, {"$set": moved},
                                              session=session)
            if done.matched_count != 1:
                raise ChainConflict("the chain head moved")
        return rows

    async def page(self, query: dict, first: int, before: int | None) -> tuple[list[dict], bool, int]:
        await self._ensure_indexes()
        total = await self.rows.count_documents(query)
        if before is not None:
            query = {**query, "seq": {"$lt": before}}
        found = await self.rows.find(query).sort("seq", -1).limit(first + 1).to_list(length=first + 1)
        return found[:first], len(found) > first, total

    async def verify(self) -> Verdict:
        # the head first: rows a live gateway appends meanwhile lie beyond it and are left for the next run
        head = await self.head.find_one({"_id": HEAD_ID})
        query = {} if head is None or not isinstance(head.get("seq"), int) else {"seq": {"$lte": head["seq"]}}
        check = ChainCheck()
        async for row in self.rows.find(query).sort("seq", 1).batch_size(1000):
            if check.feed(row) is not None:
                break
        return check.finish(head)

    async def ping(self) -> None:
        await self.client.admin.command("ping")

    async def close(self) -> None:
        await self.client.close()


# -- the log -----------------------------------------------------------------------------------------------------

@dataclass
class Entry:
    """One operation between ``open`` and ``close``; nothing in it comes from the operation's variables."""
    op: str
    principal: str | None
    role: str | None
    organisation: str | None
    region: str | None
    operation_type: str
    fields: list[str]
    transport: str
    trace_id: str | None
    personal: bool
    opened_at: datetime = dc_field(default_factory=_now)

    def row(self, phase: str, status: str | None = None, subject: tuple[str, str] | None = None) -> dict:
        return {"v": VERSION, "at": _now(), "op": self.op, "phase": phase, "principal": self.principal,
                "role": self.role, "organisation": self.organisation, "region": self.region,
                "operationType": self.operation_type, "fields": list(self.fields), "transport": self.transport,
                "status": status, "traceId": self.trace_id,
                "subject": None if subject is None else {"kind": subject[0], "id": subject[1]}}


class _Pending:
    __slots__ = ("doc", "done", "taken", "withdrawn")

    def __init__(self, doc: dict, loop) -> None:
        self.doc, self.done, self.taken, self.withdrawn = doc, loop.create_future(), False, False


def _bounded(value, limit: int = 128) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= limit else text[:limit]


def _current_trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.trace_id else None


def _status(status) -> str:
    text = str(status or "").strip().lower()
    return text if _TOKEN.match(text) else "other"


def _subject(kind, ident) -> tuple[str, str] | None:
    if kind not in SUBJECT_KINDS or ident is None or isinstance(ident, bool):
        return None
    text = str(ident)
    return (kind, text) if 0 < len(text) <= MAX_ID else None


class AccessLog:
    def __init__(self, settings: Settings, store: MongoChain | None = None) -> None:
        self._store = store or MongoChain(settings)
        self._backlog_limit = settings.access_log_backlog
        self._batch = settings.access_log_batch
        self._timeout = settings.access_log_write_timeout_s
        self._queue: deque[_Pending] = deque()
        self._wake = asyncio.Event()
        self._progress = asyncio.Event()
        self._healthy = True
        self._writer: asyncio.Task | None = None
        self._closing = False
        self.lost = 0  # close rows that found the backlog full (logged as errors)

    # -- the edge's interface -----------------------------------------------------------------------------------
    @staticmethod
    def personal(fields: Iterable[str]) -> bool:
        return any(name not in PUBLIC_FIELDS for name in fields)

    async def open(self, principal: "Principal | None", operation_type: str, fields: list[str], transport: str,
                   *, trace_id: str | None = None) -> Entry:
        if operation_type not in OPERATION_TYPES:
            raise ValueError(f"operation type must be one of {OPERATION_TYPES}")
        fields = list(fields)
        if not all(isinstance(name, str) and _NAME.match(name) for name in fields):
            raise ValueError("fields must be GraphQL field names")
        names = list(dict.fromkeys(fields))
        entry = Entry(op=uuid.uuid4().hex, principal=_bounded(getattr(principal, "subject", None)),
                      role=_bounded(getattr(principal, "role", None), 64),
                      organisation=_bounded(getattr(principal, "organisation", None), 64),
                      region=_bounded(getattr(principal, "region", None), 64),
                      operation_type=operation_type, fields=names[:MAX_FIELDS], transport=_status(transport),
                      trace_id=trace_id or _current_trace_id(), personal=self.personal(names))
        if entry.personal:
            if len(self._queue) >= self._backlog_limit:
                raise AccessLogUnavailable("the access log backlog is full")
            if not self._healthy and self._queue:
                raise AccessLogUnavailable("the access log cannot be written at the moment")
            pending = self._enqueue(entry.row("open"))
            try:
                await asyncio.wait_for(asyncio.shield(pending.done), self._timeout)
            except asyncio.TimeoutError:
                self._withdraw(pending)
                raise AccessLogUnavailable("the access log could not be written in time") from None
            except Exception as exc:
                raise AccessLogUnavailable(f"the access log could not be written ({type(exc).__name__})") from None
        return entry

    async def close(self, entry: Entry, status: str, subjects: Iterable[tuple[str, str]] | None) -> None:
        code = _status(status)
        valid = sorted({s for s in (_subject(*pair) for pair in (subjects or ()) if len(pair) == 2) if s})
        docs = [entry.row("close", code, subject) for subject in valid] or [entry.row("close", code)]
        if not entry.personal and not valid:
            # published data: queued without waiting, so an outage of the log never slows the public answers
            if len(self._queue) + len(docs) > self._backlog_limit:
                self.lost += len(docs)
                log.warning("access log backlog full: the row of a public operation was not queued")
            else:
                for doc in docs:
                    self._enqueue(doc)
            return
        waiting: list[_Pending] = []
        for doc in docs:
            if len(self._queue) >= self._backlog_limit:
                # wait for the writer to make room; a hard bound on memory, never an unbounded queue
                try:
                    await asyncio.wait_for(self._room(), self._timeout)
                except asyncio.TimeoutError:
                    self.lost += len(docs) - len(waiting)
                    log.error("access log backlog full: %d rows of one operation not queued",
                              len(docs) - len(waiting))
                    raise AccessLogUnavailable("the access log backlog is full") from None
            waiting.append(self._enqueue(doc))
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.gather(*(p.done for p in waiting))), self._timeout)
        except asyncio.TimeoutError:
            raise AccessLogUnavailable("the access log could not be written in time (rows stay queued)") from None

    async def ping(self) -> None:
        await self._store.ping()

    async def close_client(self, grace_s: float | None = None) -> None:
        self._closing = True
        if self._queue and self._writer is not None:
            try:
                await asyncio.wait_for(self._drained(), self._timeout if grace_s is None else grace_s)
            except asyncio.TimeoutError:
                log.error("access log: %d rows not written at shutdown",
                          sum(1 for p in self._queue if not p.withdrawn))
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
        await self._store.close()

    # -- the DPO's reads ----------------------------------------------------------------------------------------
    async def entries_for_subject(self, kind: str, ident: str, *, first: int = 50, after: int | None = None):
        return await self._store.page({"subject.kind": kind, "subject.id": ident}, first, after)

    async def entries_for_principal(self, subject: str, *, first: int = 50, after: int | None = None):
        return await self._store.page({"principal": subject}, first, after)

    async def verify(self) -> Verdict:
        return await self._store.verify()

    @property
    def backlog(self) -> int:
        return len(self._queue)

    # -- the writer ---------------------------------------------------------------------------------------------
    def _enqueue(self, doc: dict) -> _Pending:
        pending = _Pending(doc, asyncio.get_running_loop())
        self._queue.append(pending)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._run(), name="access-log-writer")
        self._wake.set()
        return pending

    def _withdraw(self, pending: _Pending) -> None:
        """The operation was refused: its open row goes unless a write of it is under way."""
        if pending.taken:
            pending.withdrawn = True
        else:
            with contextlib.suppress(ValueError):
                self._queue.remove(pending)
            self._progress.set()

    async def _room(self) -> None:
        while len(self._queue) >= self._backlog_limit:
            self._progress.clear()
            await self._progress.wait()

    async def _drained(self) -> None:
        while self._queue:
            self._progress.clear()
            await self._progress.wait()

    async def _run(self) -> None:
        backoff = 0.05
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = [self._queue[i] for i in range(min(self._batch, len(self._queue)))]
            for p in batch:
                p.taken = True
            live = [p for p in batch if not p.withdrawn]
            if live:
                try:
                    await self._store.append([p.doc for p in live])
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if self._healthy:
                        log.error("access log write failed: %s; %d rows waiting", type(exc).__name__,
                                  len(self._queue))
                    self._healthy = False
                    for p in batch:
                        p.taken = False
                        if p.withdrawn:
                            self._queue.remove(p)
                    self._progress.set()
                    # wait before trying again, or until a new row arrives (the probe of an operation)
                    self._wake.clear()
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), backoff)
                    backoff = min(backoff * 2, 1.0)
                    continue
                if not self._healthy:
                    log.warning("access log writable again")
                self._healthy, backoff = True, 0.05
            for p in batch:
                self._queue.popleft()
                if not p.done.done():
                    p.done.set_result(None)
            self._progress.set()


# -- who touched which subject ---------------------------------------------------------------------------------

def _value(obj, key: str):
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def _subjects_of(context) -> set | None:
    if isinstance(context, dict):
        return context.setdefault("subjects", set())
    return getattr(context, "subjects", None)


class SubjectMiddleware:
    """graphql-core middleware: record (kind, id) of every resolved object of a subject type in the context."""

    def resolve(self, next_, root, info, **args):
        kinds = SUBJECT_TYPES.get(info.parent_type.name)
        if kinds and root is not None:
            found = _subjects_of(info.context)
            if found is not None:
                for kind, key in kinds:
                    subject = _subject(kind, _value(root, key))
                    if subject:
                        found.add(subject)
        rule = ARGUMENT_SUBJECTS.get((info.parent_type.name, info.field_name))
        result = next_(root, info, **args)
        if rule is None:
            return result
        if isawaitable(result):
            async def after():
                value = await result
                self._argument(info, rule, args, value)
                return value
            return after()
        self._argument(info, rule, args, result)
        return result

    @staticmethod
    def _argument(info, rule, args, value) -> None:
        if not value:  # an error never gets here; an empty answer revealed nothing about anyone
            return
        if isinstance(value, Mapping) and "entries" in value and not value["entries"]:
            return
        named = rule(args)
        subject = _subject(*named) if named else None
        found = _subjects_of(info.context)
        if subject and found is not None:
            found.add(subject)


def operation_fields(document: DocumentNode, operation_name: str | None = None) -> tuple[str, list[str]]:
    """The operation type and root field names (not aliases; fragments on the root followed once) of the
    operation the server will execute; ValueError when the document names no such operation."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        raise ValueError("no operation to execute in this document")
    fragments = {d.name.value: d for d in document.definitions if getattr(d, "kind", "") == "fragment_definition"}
    names: dict[str, None] = {}
    seen: set[str] = set()

    def walk(selection_set) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                names.setdefault(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    walk(fragments[name].selection_set)
    walk(operation.selection_set)
    return operation.operation.value, list(names)


# -- cursors (shared with gateway/access_log.py) ------------------------------------------------------------------

def cursor_of(seq: int) -> str:
    return base64.b64encode(f"log:{seq}".encode()).decode()


def seq_of(cursor: str) -> int | None:
    try:
        kind, _, value = base64.b64decode(cursor, validate=True).decode().partition(":")
    except ValueError:
        return None
    return int(value) if kind == "log" and value.isdigit() else None


# -- python -m gateway.audit verify -----------------------------------------------------------------------------

async def _verify(settings: Settings) -> Verdict:
    chain = MongoChain(settings)
    try:
        return await chain.verify()
    finally:
        await chain.close()


def main(argv: list[str] | None = None) -> int:
    import argparse

    from kit.settings import SettingsError, load
    parser = argparse.ArgumentParser(prog="python -m gateway.audit",
                                     description="Check the gateway's hash-chained access log.")
    parser.add_argument("command", choices=["verify"], help="recompute the chain; exit 1 at the first broken row")
    parser.parse_args(argv)
    try:
        settings = load("gateway")
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 78
    try:
        verdict = asyncio.run(_verify(settings))
    except Exception as exc:
        print(f"error: cannot read the access log ({type(exc).__name__})", file=sys.stderr)
        return 2
    print(verdict, file=sys.stdout if verdict.ok else sys.stderr)
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
