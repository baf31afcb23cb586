"""Run nx-27017 (MongoDB wire protocol on SQLite) with transaction isolation the platform relies on.

nx-27017 gives each logical database one shared SQLite connection. A transaction is a BEGIN on that connection, so
without a gate (a) writes of other sessions land inside someone else's open transaction and vanish with its abort,
and (b) a client killed mid-transaction leaves it open forever, swallowing every later write. Real MongoDB isolates
transactions and aborts them after ``transactionLifetimeLimitSeconds``. This launcher adds the same guarantees:
one open transaction per database at a time, other sessions wait for it (or get a TransientTransactionError that
drivers retry), and a transaction is aborted when its connection closes or its lifetime runs out.

nx-27017 itself ignores ``txnNumber`` and ``autocommit``: it knows only "this lsid has an open SQLite transaction
or not", so an operation of a transaction that was aborted meanwhile would run as a plain, immediately durable
write. The gate therefore keeps the transaction state itself, per (lsid, txnNumber), as MongoDB does: operations
and commits of an aborted or unknown transaction get NoSuchTransaction (251, TransientTransactionError) and write
nothing; a commit retried after it succeeded reports success again; nothing of a transaction ever runs outside it.

Run it with the interpreter of the nx-27017 virtual environment: ``python mongo_server.py --data-dir DIR -p PORT``.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

from nx_27017 import handler as nx_handler
from nx_27017 import nx_27017 as nx_main
from nx_27017 import server as nx_server

log = logging.getLogger("actionplan.mongo_server")
LIFETIME_S = float(os.environ.get("NX_TXN_LIFETIME_SECONDS", "30"))
WAIT_S = float(os.environ.get("NX_TXN_WAIT_SECONDS", "5"))
# Finished transactions remembered (one per session: only its latest txnNumber matters, as in MongoDB), so that
# late operations of an aborted transaction are refused and a retried commit of a committed one succeeds.
REMEMBER = int(os.environ.get("NX_TXN_REMEMBER", "50000"))

ACTIVE, COMMITTING, COMMITTED, ABORTED = "active", "committing", "committed", "aborted"
OP_PREFIX = "op:"
_op_ids = itertools.count()

# One condition guards every gate and every transaction record. It is held only for bookkeeping, never while
# SQLite works, so it is never held together with an nx-27017 database lock by the same thread.
_cv = threading.Condition()
_local = threading.local()


class Txn:
    """One transaction of one session: (sid, number). Mutable fields change only under ``_cv``."""
    __slots__ = ("conn_id", "db", "inflight", "number", "rb_claimed", "rolled_back", "sid", "since", "state", "why")

    def __init__(self, sid: str, number: int, db: str, conn_id) -> None:
        self.sid, self.number, self.db, self.conn_id = sid, number, db, conn_id
        self.since = time.monotonic()
        self.state, self.why = ACTIVE, ""
        self.inflight = 0          # operations of this transaction currently running in nx-27017
        self.rb_claimed = False    # some thread has taken on the SQLite rollback
        self.rolled_back = False   # the rollback is done (and the gate released)


class Gate:
    """Owner of one database: a transaction's session id, a one-operation token, or nobody. The owner is not a
    thread, because successive operations of one transaction arrive on different worker threads."""

    def __init__(self) -> None:
        self.owner: str | None = None
        self.txn: Txn | None = None


_gates: dict[str, Gate] = {}
_txns: OrderedDict[str, Txn] = OrderedDict()   # sid -> its latest transaction


def _gate(db: str) -> Gate:  # under _cv
    gate = _gates.get(db)
    if gate is None:
        gate = _gates[db] = Gate()
    return gate


def _remember(txn: Txn) -> None:  # under _cv
    _txns[txn.sid] = txn
    _txns.move_to_end(txn.sid)
    for _ in range(len(_txns)):
        if len(_txns) <= REMEMBER:
            break
        sid, old = next(iter(_txns.items()))
        if old.state == COMMITTED or (old.state == ABORTED and old.rolled_back):
            del _txns[sid]
        else:  # still open or still rolling back: never forget it
            _txns.move_to_end(sid)


def _doom(txn: Txn, why: str) -> None:  # under _cv
    if txn.state == ACTIVE:
        txn.state, txn.why = ABORTED, why


def _claim_rollback(txn: Txn) -> bool:  # under _cv
    """The rollback of an aborted transaction waits until none of its operations runs any more: rolling back
    under a running operation would let the operation's remaining writes run outside any transaction."""
    if txn.state == ABORTED and txn.inflight == 0 and not txn.rb_claimed:
        txn.rb_claimed = True
        return True
    return False


def _rollback(handler, txn: Txn) -> None:
    """Roll back the SQLite transaction of a claimed, aborted ``txn`` and free its gate. Not under _cv."""
    try:
        with handler._lock_for(txn.db):
            for sess in handler._tx_sessions(txn.sid):
                try:
                    sess.abort_transaction()
                except Exception:
                    log.exception("rollback of session %s failed", txn.sid[:8])
    finally:
        with _cv:
            txn.rolled_back = True
            gate = _gates.get(txn.db)
            if gate is not None and gate.txn is txn:
                gate.owner = gate.txn = None
            _cv.notify_all()
    log.warning("aborted transaction %s of session %s on %s: %s", txn.number, txn.sid[:8], txn.db, txn.why)


def _abort_and_wait(handler, txn: Txn, why: str, deadline: float) -> str | None:
    """Abort ``txn`` unless it committed; wait for its rollback. Returns its final state, None on timeout."""
    with _cv:
        while True:
            _doom(txn, why)
            if txn.state == COMMITTED or (txn.state == ABORTED and txn.rolled_back):
                return txn.state
            if _claim_rollback(txn):
                break
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            _cv.wait(left)
    _rollback(handler, txn)
    return ABORTED


def _error(code: int, name: str, why: str, transient: bool = False) -> dict:
    doc = {"ok": 0, "code": code, "codeName": name, "errmsg": why}
    if transient:
        doc["errorLabels"] = ["TransientTransactionError"]
    return doc


def _no_such_txn(number, why: str) -> dict:
    return _error(251, "NoSuchTransaction", f"Transaction with txnNumber {number} {why}", transient=True)


def _txn_state_error(txn: Txn | None, number: int) -> dict | None:  # under _cv
    """Why an operation of (sid, number) that does not start a transaction may not run, or None if it may."""
    if txn is None or number > txn.number:
        return _no_such_txn(number, "is not in progress (never started, or aborted and forgotten)")
    if number < txn.number:
        return _error(225, "TransactionTooOld",
                      f"txnNumber {number} is older than the session's latest transaction {txn.number}")
    if txn.state == ABORTED:
        return _no_such_txn(number, f"has been aborted: {txn.why}")
    if txn.state in (COMMITTING, COMMITTED):
        return _error(256, "TransactionCommitted", f"Transaction {number} has been committed")
    return None


def _body(msg: dict) -> dict:
    for kind, data in msg.get("sections", ()):
        if kind == "body" and isinstance(data, dict):
            return data
    return msg.get("query") or {}


def _db_of(msg: dict, body: dict) -> str:
    return body.get("$db") or str(msg.get("collection", "")).split(".")[0] or "admin"


def _session_ids(value) -> list[str]:
    ids = []
    for item in value if isinstance(value, list) else [value]:
        sid = nx_handler._extract_session_id(item) if isinstance(item, dict) else None
        if isinstance(item, bytes):
            sid = item.hex()
        if sid:
            ids.append(sid)
    return ids


# -- operations -------------------------------------------------------------------------------------------------
def _run_in_txn(handler, original, msg, args, kwargs, txn: Txn, conn_id, start_body: dict | None):
    """Run one operation of ``txn`` (inflight already counted). ``start_body`` is set for startTransaction."""
    try:
        with handler._lock_for(txn.db):
            if start_body is not None:
                for stale in handler._tx_sessions(txn.sid):  # a transaction nx-27017 still holds open: drop it
                    stale.abort_transaction()
                # nx-27017 starts a transaction only on writes; a transaction that begins with a read would
                # otherwise run its writes outside it
                handler._get_or_create_session(start_body, handler.get_database(txn.db), txn.db)
            open_here = bool(handler._tx_sessions(txn.sid))
        if not open_here:  # never let an operation of a transaction run as a plain write
            with _cv:
                _doom(txn, "its SQLite transaction is not open")
            return _no_such_txn(txn.number, "has no open SQLite transaction")
        return original(handler, msg, *args, **kwargs)
    except Exception as exc:
        # as in MongoDB, a failed command aborts its transaction (its partial effects must not be committed)
        with _cv:
            _doom(txn, f"an operation failed: {exc}")
        raise
    finally:
        with _cv:
            txn.inflight -= 1
            claimed = _claim_rollback(txn)
            _cv.notify_all()
        if claimed:
            _rollback(handler, txn)


def _txn_op(handler, original, msg, args, kwargs, body, sid, number, db, conn_id):
    deadline = time.monotonic() + WAIT_S
    if body.get("startTransaction"):
        with _cv:
            prev = _txns.get(sid)
        if prev is not None:
            if number < prev.number:
                return _error(225, "TransactionTooOld", f"txnNumber {number} is older than {prev.number}")
            if number == prev.number:
                if prev.state == ABORTED:
                    return _no_such_txn(number, f"has been aborted: {prev.why}")
                return _error(117, "ConflictingOperationInProgress", f"Transaction {number} was started already")
            # a newer transaction of a session implicitly aborts its older one, as in MongoDB
            if _abort_and_wait(handler, prev, f"superseded by transaction {number}", deadline) is None:
                return _error(112, "WriteConflict", "the previous transaction of this session is still busy",
                              transient=True)
        with _cv:
            latest = _txns.get(sid)
            if latest is not prev:
                return _error(117, "ConflictingOperationInProgress", "the session started another transaction")
            gate = _gate(db)
            while gate.owner is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return _error(112, "WriteConflict", f"another transaction holds {db} longer than {WAIT_S}s",
                                  transient=True)
                _cv.wait(left)
            txn = Txn(sid, number, db, conn_id)
            txn.inflight = 1
            gate.owner, gate.txn = sid, txn
            _remember(txn)
        return _run_in_txn(handler, original, msg, args, kwargs, txn, conn_id, body)
    with _cv:
        txn = _txns.get(sid)
        refused = _txn_state_error(txn, number)
        if refused is None and txn.db != db:
            refused = _error(263, "OperationNotSupportedInTransaction",
                             f"transaction {number} runs on {txn.db!r}; cross-database transactions are unsupported")
        if refused is not None:
            return refused
        txn.inflight += 1
        txn.conn_id = conn_id
    return _run_in_txn(handler, original, msg, args, kwargs, txn, conn_id, None)


def _commit(handler, sid: str, number: int) -> dict:
    deadline = time.monotonic() + WAIT_S
    with _cv:
        txn = _txns.get(sid)
        while txn is not None and txn.number == number and (
                txn.state == COMMITTING or (txn.state == ACTIVE and txn.inflight > 0)):
            left = deadline - time.monotonic()
            if left <= 0:
                return _error(112, "WriteConflict", "the transaction is still busy", transient=True)
            _cv.wait(left)
        if txn is not None and txn.number == number and txn.state == COMMITTED:
            return {"ok": 1}  # a retried commit of a committed transaction succeeds, as in MongoDB
        refused = _txn_state_error(txn, number)
        if refused is not None:
            if refused["code"] == 256:
                return {"ok": 1}
            return refused
        txn.state = COMMITTING  # from here the reaper and a closing connection leave it alone
    ok, why = False, ""
    try:
        with handler._lock_for(txn.db):
            sessions = handler._tx_sessions(sid)
            if not sessions:
                raise RuntimeError("no open SQLite transaction")
            for sess in sessions:
                sess.commit_transaction()
            ok = True
    except Exception as exc:
        why = f"commit failed: {exc}"
        log.exception("commit of transaction %s of session %s failed", number, sid[:8])
        with handler._lock_for(txn.db):
            for sess in handler._tx_sessions(sid):
                try:
                    sess.abort_transaction()
                except Exception:
                    log.exception("rollback after a failed commit failed")
    finally:
        with _cv:
            txn.state, txn.why = (COMMITTED, "") if ok else (ABORTED, why or "commit failed")
            txn.rb_claimed = txn.rolled_back = True
            gate = _gates.get(txn.db)
            if gate is not None and gate.txn is txn:
                gate.owner = gate.txn = None
            _cv.notify_all()
    return {"ok": 1} if ok else _no_such_txn(number, f"has been aborted: {why}")


def _abort(handler, sid: str, number: int) -> dict:
    with _cv:
        txn = _txns.get(sid)
        refused = _txn_state_error(txn, number)
        if refused is not None and refused["code"] != 256:
            return refused  # unknown, too old or already aborted: NoSuchTransaction, as in MongoDB
        was_active = txn.state == ACTIVE
    state = _abort_and_wait(handler, txn, "aborted by the client", time.monotonic() + WAIT_S)
    if state == COMMITTED:
        return _error(256, "TransactionCommitted", f"Transaction {number} has been committed")
    if state is None:
        return _error(112, "WriteConflict", "the transaction is still busy", transient=True)
    return {"ok": 1} if was_active else _no_such_txn(number, "has been aborted")


def _plain_op(handler, original, msg, args, kwargs, sid, db):
    """Exclusive use of the database for one operation outside any transaction. neosqlite shares one SQLite
    connection, so an operation running while a transaction is open would land in it."""
    deadline = time.monotonic() + WAIT_S
    token = f"{OP_PREFIX}{next(_op_ids)}"
    with _cv:
        gate = _gate(db)
        txn = gate.txn
        if sid is not None and txn is not None and txn.sid == sid and txn.state == ACTIVE:
            # its own session holds the database: the operation joins that transaction (nx-27017 uses the lsid's
            # open session); it cannot run beside it on the shared connection
            txn.inflight += 1
        else:
            txn = None
            while gate.owner is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return _error(112, "WriteConflict", f"a transaction holds {db} longer than {WAIT_S}s",
                                  transient=True)
                _cv.wait(left)
            gate.owner = token
    if txn is not None:
        return _run_in_txn(handler, original, msg, args, kwargs, txn, msg.get("_conn_id"), None)
    try:
        return original(handler, msg, *args, **kwargs)
    finally:
        with _cv:
            if gate.owner == token:
                gate.owner = None
            _cv.notify_all()


def _dispatch(handler, original, msg, args, kwargs):
    body = _body(msg)
    lsid = body.get("lsid")
    sid = nx_handler._extract_session_id(lsid) if isinstance(lsid, dict) else None
    number = body.get("txnNumber")
    in_txn = sid is not None and number is not None and body.get("autocommit") is False
    if "commitTransaction" in body or "abortTransaction" in body:
        # never passed to nx-27017: it ignores txnNumber and finishes whatever the lsid has open
        if not in_txn:
            return _error(72, "InvalidOptions", "commitTransaction and abortTransaction need lsid, txnNumber and "
                                                "autocommit: false")
        if "commitTransaction" in body:
            return _commit(handler, sid, int(number))
        return _abort(handler, sid, int(number))
    db = _db_of(msg, body)
    if in_txn:
        return _txn_op(handler, original, msg, args, kwargs, body, sid, int(number), db, msg.get("_conn_id"))
    if "endSessions" in body:
        deadline = time.monotonic() + WAIT_S
        for ended in _session_ids(body.get("endSessions")):
            with _cv:
                txn = _txns.get(ended)
            if txn is not None and txn.state in (ACTIVE, COMMITTING, ABORTED) and not txn.rolled_back:
                _abort_and_wait(handler, txn, "its session ended", deadline)
    return _plain_op(handler, original, msg, args, kwargs, sid, db)


def _gated(original, returns_list: bool = False):
    def run(self, msg, *args, **kwargs):
        if getattr(_local, "inside", False):  # handle_query calls handle_command: already gated
            return original(self, msg, *args, **kwargs)
        _local.inside = True
        try:
            result = _dispatch(self, original, msg, args, kwargs)
        finally:
            _local.inside = False
        if isinstance(result, dict):  # a refusal of the gate
            return msg.get("request_id", 0), [result] if returns_list else result
        return result
    return run


def _on_close(original):
    def run(self, conn_id):
        doomed = []
        with _cv:
            for gate in _gates.values():
                txn = gate.txn
                if txn is not None and txn.state == ACTIVE and txn.conn_id == conn_id:
                    _doom(txn, "client connection closed")
                    if _claim_rollback(txn):
                        doomed.append(txn)
        for txn in doomed:  # this runs on the event loop: roll back on a thread of its own
            threading.Thread(target=_rollback, args=(self, txn), daemon=True, name="txn-rollback").start()
        return original(self, conn_id)
    return run


def _reaper(handler_ref: list) -> None:
    tick = min(1.0, max(0.05, LIFETIME_S / 4))
    while True:
        time.sleep(tick)
        if not handler_ref:
            continue
        try:
            doomed = []
            with _cv:
                now = time.monotonic()
                for gate in _gates.values():
                    txn = gate.txn
                    if txn is not None and txn.state == ACTIVE and now - txn.since > LIFETIME_S:
                        _doom(txn, f"lifetime {LIFETIME_S:g}s exceeded")
                        if _claim_rollback(txn):
                            doomed.append(txn)
            for txn in doomed:
                _rollback(handler_ref[0], txn)
        except Exception:
            log.exception("transaction reaper failed; continuing")


def _forget_collections_on_abort() -> None:
    """A collection first created inside a transaction disappears with its rollback, but neosqlite keeps it in
    its cache and later writes fail with 'no such table'. Forget the cache on abort; it is rebuilt on demand."""
    from neosqlite.client_session import ClientSession

    original = ClientSession.abort_transaction

    def abort_transaction(self):
        try:
            return original(self)
        finally:
            getattr(self.client, "_collections", {}).clear()
    ClientSession.abort_transaction = abort_transaction


def install() -> None:
    _forget_collections_on_abort()
    cls = nx_handler.NeoSQLiteHandler
    for name in ("handle_command", "handle_insert"):
        setattr(cls, name, _gated(getattr(cls, name)))
    cls.handle_query = _gated(cls.handle_query, returns_list=True)
    cls.close_streams_for_connection = _on_close(cls.close_streams_for_connection)
    handler_ref: list = []
    original_init = cls.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        handler_ref.append(self)
    cls.__init__ = init
    original_run = nx_server.run_server

    async def run_server(*args, **kwargs):
        # Operations waiting at a gate hold a worker thread; the default pool (cores + 4) would let a few waiters
        # starve the transaction they wait for of the thread it needs to finish.
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=256, thread_name_prefix="op"))
        await original_run(*args, **kwargs)
    nx_server.run_server = run_server
    threading.Thread(target=_reaper, args=(handler_ref,), daemon=True, name="txn-reaper").start()


if __name__ == "__main__":
    install()
    nx_main.main()
