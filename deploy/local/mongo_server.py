"""Run nx-27017 (MongoDB wire protocol on SQLite) with transaction isolation the platform relies on.

nx-27017 gives each logical database one shared SQLite connection. A transaction is a BEGIN on that connection, so
without a gate (a) writes of other sessions land inside someone else's open transaction and vanish with its abort,
and (b) a client killed mid-transaction leaves it open forever, swallowing every later write. Real MongoDB isolates
transactions and aborts them after ``transactionLifetimeLimitSeconds``. This launcher adds the same guarantees:
one open transaction per database at a time, other sessions wait for it (or get a TransientTransactionError that
drivers retry), and a transaction is aborted when its connection closes or its lifetime runs out.

Run it with the interpreter of the nx-27017 virtual environment: ``python mongo_server.py --data-dir DIR -p PORT``.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import os
from concurrent.futures import ThreadPoolExecutor
import threading
import time

from nx_27017 import handler as nx_handler
from nx_27017 import nx_27017 as nx_main
from nx_27017 import server as nx_server

log = logging.getLogger("actionplan.mongo_server")
LIFETIME_S = float(os.environ.get("NX_TXN_LIFETIME_SECONDS", "30"))
WAIT_S = float(os.environ.get("NX_TXN_WAIT_SECONDS", "5"))


class Gate:
    """Owner-token lock per database: the owner is a session id, not a thread, because successive operations of one
    transaction arrive on different worker threads."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.owner: str | None = None
        self.since = 0.0
        self.conn_id = None

    def acquire(self, sid: str | None, conn_id) -> bool:
        deadline = time.monotonic() + WAIT_S
        with self.cond:
            while self.owner is not None and self.owner != sid:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            if sid is not None and self.owner is None:
                self.owner, self.since = sid, time.monotonic()
            if sid is not None:
                self.conn_id = conn_id
            return True

    def hold_for_op(self) -> str | None:
        """Exclusive use for one operation outside any transaction. neosqlite shares one SQLite connection, so an
        operation running while a transaction begins would commit that transaction's savepoint from under it."""
        token = f"{OP_PREFIX}{next(_op_ids)}"
        deadline = time.monotonic() + WAIT_S
        with self.cond:
            while self.owner is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)
            self.owner, self.since = token, time.monotonic()
            return token

    def release_op(self, token: str) -> None:
        with self.cond:
            if self.owner == token:
                self.owner = None
                self.cond.notify_all()

    def release(self) -> None:
        with self.cond:
            self.owner, self.conn_id = None, None
            self.cond.notify_all()


OP_PREFIX = "op:"
_op_ids = itertools.count()
_gates: dict[str, Gate] = {}
_gates_lock = threading.Lock()


def _gate(db: str) -> Gate:
    with _gates_lock:
        return _gates.setdefault(db, Gate())


def _body(msg: dict) -> dict:
    for kind, data in msg.get("sections", ()):
        if kind == "body" and isinstance(data, dict):
            return data
    return msg.get("query") or {}


def _conflict(msg: dict, why: str) -> tuple[int, dict]:
    return msg.get("request_id", 0), {
        "ok": 0, "code": 112, "codeName": "WriteConflict", "errmsg": why,
        "errorLabels": ["TransientTransactionError"],
    }


def _abort_owned(handler, sid: str, why: str) -> None:
    for sess in handler._tx_sessions(sid):
        try:
            sess.abort_transaction()
        except Exception:  # the session may have finished on another thread meanwhile
            log.debug("abort of %s failed", sid, exc_info=True)
    for name, gate in list(_gates.items()):
        if gate.owner == sid:
            log.warning("aborted transaction of session %s on %s: %s", sid[:8], name, why)
            gate.release()


def _gated(original):
    def run(self, msg, *args, **kwargs):
        body = _body(msg)
        lsid = body.get("lsid")
        sid = nx_handler._extract_session_id(lsid) if lsid else None
        conn_id = msg.get("_conn_id")
        if sid and ("commitTransaction" in body or "abortTransaction" in body):
            try:
                return original(self, msg, *args, **kwargs)
            finally:
                for gate in list(_gates.values()):
                    if gate.owner == sid:
                        gate.release()
        db = body.get("$db") or str(msg.get("collection", "")).split(".")[0] or "admin"
        gate = _gate(db)
        in_txn = sid is not None and (body.get("startTransaction") or gate.owner == sid)
        if in_txn:
            if not gate.acquire(sid, conn_id):
                return _conflict(msg, f"another transaction holds {db} longer than {WAIT_S}s")
            try:
                if body.get("startTransaction"):
                    # nx-27017 starts a transaction only on writes; a transaction that begins with a read would
                    # otherwise run its writes outside it
                    self._get_or_create_session(body, self.get_database(db), db)
                return original(self, msg, *args, **kwargs)
            except Exception:
                if body.get("startTransaction"):
                    _abort_owned(self, sid, "failed to start")
                raise
        token = gate.hold_for_op()
        if token is None:
            return _conflict(msg, f"a transaction holds {db} longer than {WAIT_S}s")
        try:
            return original(self, msg, *args, **kwargs)
        finally:
            gate.release_op(token)
    return run


def _on_close(original):
    def run(self, conn_id):
        for gate in list(_gates.values()):
            if gate.owner is not None and not gate.owner.startswith(OP_PREFIX) and gate.conn_id == conn_id:
                _abort_owned(self, gate.owner, "client connection closed")
        return original(self, conn_id)
    return run


def _reaper(handler_ref: list) -> None:
    while True:
        time.sleep(1.0)
        if not handler_ref:
            continue
        now = time.monotonic()
        for gate in list(_gates.values()):
            owner = gate.owner
            if owner is not None and not owner.startswith(OP_PREFIX) and now - gate.since > LIFETIME_S:
                _abort_owned(handler_ref[0], owner, f"lifetime {LIFETIME_S}s exceeded")


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
    for name in ("handle_command", "handle_insert", "handle_query"):
        setattr(cls, name, _gated(getattr(cls, name)))
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
