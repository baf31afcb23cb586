"""Transaction faults at the MongoDB-wire server (deploy/local/mongo_server.py's gate over nx-27017).

A transaction aborted by the gate (lifetime exceeded, client connection closed) must stay aborted: its later
operations and its commit get NoSuchTransaction (251, TransientTransactionError) and write nothing, exactly as
MongoDB answers them, so that a commit which reports failure has written none of its rows.
"""
from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid

import pytest
from bson import Binary, Int64, decode, encode
from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

from deploy.local.stack import ROOT, Stack, free_port

pytestmark = pytest.mark.stack

LIFETIME = 2.0


@pytest.fixture
def mongo(tmp_path):
    """Start a private nx-27017 behind the gate: ``mongo(lifetime=..., wait=...) -> (uri, port)``."""
    stacks: list[Stack] = []

    def start(lifetime: float = 30, wait: float = 10) -> tuple[str, int]:
        workdir = tmp_path / f"stack{len(stacks)}"
        stack = Stack(workdir, {"PATH": os.environ["PATH"], "NX_TXN_LIFETIME_SECONDS": str(lifetime),
                                "NX_TXN_WAIT_SECONDS": str(wait)})
        stacks.append(stack)
        port = free_port()
        stack.start_mongo(port, workdir / "data")
        return stack.env["MONGO_URI"], port
    yield start
    for stack in stacks:
        stack.stop()


def _client(uri: str) -> MongoClient:
    return MongoClient(uri, serverSelectionTimeoutMS=5000)


def _prepare(coll) -> None:
    """Create the collection outside any transaction."""
    coll.insert_one({"_id": "seed"})
    coll.delete_one({"_id": "seed"})


def _transient_or_251(exc: PyMongoError) -> bool:
    return exc.has_error_label("TransientTransactionError") or getattr(exc, "code", None) == 251


# -- (1) the reaper ---------------------------------------------------------------------------------------------
def test_operations_after_the_reaper_aborted_a_transaction_write_nothing(mongo):
    uri, _ = mongo(lifetime=LIFETIME)
    client = _client(uri)
    try:
        coll = client.gate.outbox
        _prepare(coll)
        with client.start_session() as session:
            session.start_transaction()
            coll.insert_one({"_id": "first"}, session=session)
            time.sleep(LIFETIME + 1.5)
            with pytest.raises(OperationFailure) as late:
                coll.insert_one({"_id": "second"}, session=session)
            assert _transient_or_251(late.value), late.value.details
            assert late.value.code == 251
            with pytest.raises(OperationFailure) as commit:
                session.commit_transaction()
            assert _transient_or_251(commit.value), commit.value.details
        assert coll.count_documents({}) == 0
        assert coll.find_one({"_id": "first"}) is None and coll.find_one({"_id": "second"}) is None
        # the gate is free again: a new transaction commits
        with client.start_session() as session:
            session.with_transaction(lambda s: coll.insert_one({"_id": "after"}, session=s))
        assert coll.count_documents({}) == 1
    finally:
        client.close()


# -- (2) the client connection closes ---------------------------------------------------------------------------
HOLDER = """
import sys, time
from pymongo import MongoClient
client = MongoClient(sys.argv[1], serverSelectionTimeoutMS=5000)
coll = client.gate.requests
session = client.start_session()
session.start_transaction()
coll.insert_one({"_id": "held-1"}, session=session)
coll.insert_one({"_id": "held-2"}, session=session)
print("READY", flush=True)
time.sleep(600)
"""


def test_a_transaction_whose_client_died_is_aborted_and_frees_the_gate(mongo):
    uri, _ = mongo(lifetime=60, wait=20)   # only the closed connection can free the gate within the test's bound
    client = _client(uri)
    holder = None
    try:
        coll = client.gate.requests
        _prepare(coll)
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, uri], stdout=subprocess.PIPE, cwd=ROOT,
                                  start_new_session=True, text=True)
        assert holder.stdout.readline().strip() == "READY"
        killed_at = time.monotonic()
        holder.send_signal(signal.SIGKILL)   # the kernel closes its sockets: no abortTransaction, no endSessions
        holder.wait(10)
        assert coll.count_documents({}) == 0
        with client.start_session() as session:
            session.start_transaction()
            coll.insert_one({"_id": "next"}, session=session)
            session.commit_transaction()
        assert time.monotonic() - killed_at < 5
        assert sorted(d["_id"] for d in coll.find()) == ["next"]
    finally:
        if holder is not None and holder.poll() is None:
            holder.kill()
            holder.wait(10)
        client.close()


def test_a_raw_socket_close_mid_transaction_aborts_it(mongo):
    uri, port = mongo(lifetime=60, wait=20)
    client = _client(uri)
    try:
        coll = client.gate.raw
        _prepare(coll)
        lsid = {"id": Binary(uuid.uuid4().bytes, 4)}
        sock = socket.create_connection(("127.0.0.1", port))
        reply = _raw(sock, {"insert": "raw", "documents": [{"_id": 1}], "$db": "gate", "lsid": lsid,
                            "txnNumber": Int64(1), "startTransaction": True, "autocommit": False})
        assert reply["ok"] == 1 and reply["n"] == 1
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST, not FIN
        sock.close()
        started = time.monotonic()
        assert coll.count_documents({}) == 0
        with client.start_session() as session:
            session.with_transaction(lambda s: coll.insert_one({"_id": 2}, session=s))
        assert time.monotonic() - started < 5
        assert [d["_id"] for d in coll.find()] == [2]
        # the closed connection's transaction stays aborted for its session
        with socket.create_connection(("127.0.0.1", port)) as again:
            late = _raw(again, {"insert": "raw", "documents": [{"_id": 3}], "$db": "gate", "lsid": lsid,
                                "txnNumber": Int64(1), "autocommit": False})
            assert late["code"] == 251 and "TransientTransactionError" in late["errorLabels"]
            commit = _raw(again, {"commitTransaction": 1, "$db": "admin", "lsid": lsid, "txnNumber": Int64(1),
                                  "autocommit": False})
            assert commit["code"] == 251
        assert [d["_id"] for d in coll.find()] == [2]
    finally:
        client.close()


# -- (3) with_transaction retries a callback that outlived the lifetime -----------------------------------------
def test_with_transaction_retry_after_the_reaper_leaves_exactly_one_copy(mongo):
    uri, _ = mongo(lifetime=LIFETIME)
    client = _client(uri)
    try:
        coll = client.gate.ledger
        _prepare(coll)
        attempts = []

        def work(session):
            attempts.append(1)
            coll.insert_one({"k": "a"}, session=session)
            coll.insert_one({"k": "b"}, session=session)
            if len(attempts) == 1:
                time.sleep(LIFETIME + 1.5)   # the reaper aborts this attempt
            coll.insert_one({"k": "c"}, session=session)
            return len(attempts)

        with client.start_session() as session:
            assert session.with_transaction(work) == 2
        assert len(attempts) == 2
        assert coll.count_documents({}) == 3
        for key in "abc":
            assert coll.count_documents({"k": key}) == 1
    finally:
        client.close()


# -- (4) many concurrent transactions, some aborting ------------------------------------------------------------
class Deliberate(Exception):
    pass


def test_concurrent_transactions_leave_exactly_the_committed_rows(mongo):
    uri, _ = mongo(lifetime=30, wait=20)
    client = _client(uri)
    try:
        coll = client.gate.concurrent
        plain = client.gate.plain
        _prepare(coll)
        _prepare(plain)
        errors: list[BaseException] = []
        committed: list[int] = []
        lock = threading.Lock()

        def worker(i: int) -> None:
            try:
                with client.start_session() as session:
                    if i % 5 == 1:   # explicit abort after writing
                        session.start_transaction()
                        for j in range(3):
                            coll.insert_one({"t": i, "j": j}, session=session)
                        session.abort_transaction()
                        return

                    def work(s):
                        for j in range(3):
                            coll.insert_one({"t": i, "j": j}, session=s)
                        if i % 5 == 3:
                            raise Deliberate(i)   # the callback fails: with_transaction aborts
                    try:
                        session.with_transaction(work)
                    except Deliberate:
                        return
                    with lock:
                        committed.append(i)
                plain.insert_one({"w": i})   # plain writes interleave with the transactions
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors
        expected = sorted(i for i in range(20) if i % 5 not in (1, 3))
        assert sorted(committed) == expected
        assert coll.count_documents({}) == 3 * len(expected)
        assert sorted({d["t"] for d in coll.find()}) == expected
        for i in expected:
            assert coll.count_documents({"t": i}) == 3
        assert plain.count_documents({}) == len(expected)
    finally:
        client.close()


# -- related holes: raw commands the gate must answer as MongoDB does ------------------------------------------
def _raw(sock: socket.socket, doc: dict) -> dict:
    payload = struct.pack("<I", 0) + b"\x00" + encode(doc)
    sock.sendall(struct.pack("<iiii", 16 + len(payload), 1, 0, 2013) + payload)
    header = _read(sock, 16)
    length = struct.unpack("<i", header[:4])[0]
    body = _read(sock, length - 16)
    return decode(body[5:])


def _read(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "server closed the connection"
        data += chunk
    return data


def test_transaction_commands_follow_mongodb_semantics(mongo):
    uri, port = mongo(lifetime=30)
    client = _client(uri)
    try:
        coll = client.gate.semantics
        _prepare(coll)
        lsid = {"id": Binary(uuid.uuid4().bytes, 4)}

        def txn(n: int, **extra) -> dict:
            return {"lsid": lsid, "txnNumber": Int64(n), "autocommit": False, **extra}

        with socket.create_connection(("127.0.0.1", port)) as sock:
            # an operation of a transaction that was never started (the gate is owned by nobody)
            never = _raw(sock, {"insert": "semantics", "documents": [{"_id": "never"}], "$db": "gate", **txn(1)})
            assert never["code"] == 251 and "TransientTransactionError" in never["errorLabels"]
            assert _raw(sock, {"commitTransaction": 1, "$db": "admin", **txn(1)})["code"] == 251
            assert coll.count_documents({}) == 0

            # commit, then a retried commit succeeds again; abort after commit is refused
            ok = _raw(sock, {"insert": "semantics", "documents": [{"_id": "two"}], "$db": "gate",
                             **txn(2, startTransaction=True)})
            assert ok["ok"] == 1 and ok["n"] == 1
            assert _raw(sock, {"commitTransaction": 1, "$db": "admin", **txn(2)})["ok"] == 1
            assert _raw(sock, {"commitTransaction": 1, "$db": "admin", **txn(2)})["ok"] == 1
            assert _raw(sock, {"abortTransaction": 1, "$db": "admin", **txn(2)})["code"] == 256
            late = _raw(sock, {"insert": "semantics", "documents": [{"_id": "late"}], "$db": "gate", **txn(2)})
            assert late["ok"] == 0
            assert sorted(d["_id"] for d in coll.find()) == ["two"]

            # abort, then abort again and commit are NoSuchTransaction; nothing written
            ok = _raw(sock, {"insert": "semantics", "documents": [{"_id": "three"}], "$db": "gate",
                             **txn(3, startTransaction=True)})
            assert ok["ok"] == 1
            assert _raw(sock, {"abortTransaction": 1, "$db": "admin", **txn(3)})["ok"] == 1
            assert _raw(sock, {"abortTransaction": 1, "$db": "admin", **txn(3)})["code"] == 251
            assert _raw(sock, {"commitTransaction": 1, "$db": "admin", **txn(3)})["code"] == 251
            after = _raw(sock, {"insert": "semantics", "documents": [{"_id": "after"}], "$db": "gate", **txn(3)})
            assert after["code"] == 251
            # an older txnNumber is refused
            assert _raw(sock, {"insert": "semantics", "documents": [{"_id": "old"}], "$db": "gate",
                               **txn(2, startTransaction=True)})["code"] == 225
            assert sorted(d["_id"] for d in coll.find()) == ["two"]

        # through the driver: a retried commit_transaction after success reports success
        with client.start_session() as session:
            session.start_transaction()
            coll.insert_one({"_id": "driver"}, session=session)
            session.commit_transaction()
            session.commit_transaction()
        assert coll.count_documents({}) == 2
    finally:
        client.close()
