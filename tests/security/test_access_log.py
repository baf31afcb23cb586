"""The access log on the real MongoDB-wire server: rows per subject and per principal, a chain that two gateway
instances extend together, ``python -m gateway.audit verify`` catching an edited, deleted or reordered row, and
operations on personal data refused when the log cannot be written."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from types import SimpleNamespace

import pytest
from pymongo import MongoClient

from deploy.local.stack import ROOT, free_port
from gateway.audit import HEAD, ROWS, AccessLog, AccessLogUnavailable, SubjectMiddleware
from gateway.schema import build_schema
from kit.settings import load

pytestmark = pytest.mark.stack

OFFICER = SimpleNamespace(subject="u-officer-1", role="grant_officer", organisation="ministry", region=None)
WORKER = SimpleNamespace(subject="u-worker-7", role="outreach_worker", organisation="provest",
                         region="Region Zealand")
DPO = SimpleNamespace(subject="u-dpo", role="dpo", organisation="ministry", region=None)


@pytest.fixture
def env(infra):
    # the access log needs the database and no key: the services' keys stay out of this process
    keep = {k: v for k, v in infra.env.items() if not k.endswith("_KEY")}
    return {**keep, "MONGO_DB_PREFIX": f"al{uuid.uuid4().hex[:10]}", "ACCESS_LOG_WRITE_TIMEOUT_SECONDS": "2"}


@pytest.fixture
def db(env):
    client = MongoClient(env["MONGO_URI"], tz_aware=True)
    settings = load("gateway", env)
    yield client[settings.database]
    client.drop_database(settings.database)
    client.close()


async def operations(env, instances: int = 1) -> None:
    """A morning's work: the officer reads applications, the worker handles ads; then the DPO asks."""
    logs = [AccessLog(load("gateway", env)) for _ in range(instances)]

    async def one(i: int) -> None:
        log = logs[i % instances]
        who, fields, subjects = ((OFFICER, ["application"], {("application", f"app-{i % 3}")}) if i % 2 == 0 else
                                 (WORKER, ["triageAd", "triageQueue"], {("ad", f"escort.example/{i}"),
                                                                        ("ad", "escort.example/common")}))
        entry = await log.open(who, "query", fields, "http" if i % 3 else "websocket")
        await log.close(entry, "ok", subjects)
    await asyncio.gather(*(one(i) for i in range(30)))
    public = await logs[0].open(None, "query", ["actionPlan"], "http")
    await logs[0].close(public, "ok", set())
    for log in logs:
        await log.close_client()


def verify(env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gateway.audit", "verify"], check=False,
                          env={**env, "PYTHONPATH": str(ROOT)}, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_rows_per_subject_and_per_principal(env, db):
    asyncio.run(operations(env))

    async def ask():
        log = AccessLog(load("gateway", env))
        try:
            app = await log.entries_for_subject("application", "app-1", first=100)
            common = await log.entries_for_subject("ad", "escort.example/common", first=100)
            worker = await log.entries_for_principal(WORKER.subject, first=100)
            page1 = await log.entries_for_principal(OFFICER.subject, first=7)
            page2 = await log.entries_for_principal(OFFICER.subject, first=7, after=page1[0][-1]["seq"])
            return app, common, worker, page1, page2
        finally:
            await log.close_client()
    app, common, worker, page1, page2 = asyncio.run(ask())
    rows, more, total = app
    assert total == 5 and not more   # operations 4, 10, 16, 22, 28 read app-1
    assert {(r["principal"], r["role"], r["organisation"], r["phase"], r["status"]) for r in rows} == {
        ("u-officer-1", "grant_officer", "ministry", "close", "ok")}
    assert [r["seq"] for r in rows] == sorted((r["seq"] for r in rows), reverse=True)
    assert common[2] == 15 and {r["principal"] for r in common[0]} == {"u-worker-7"}
    assert {r["region"] for r in common[0]} == {"Region Zealand"}
    # per principal: the open row and both ad rows of each of the worker's 15 operations
    assert worker[2] == 45 and {r["phase"] for r in worker[0]} == {"open", "close"}
    assert {tuple(r["fields"]) for r in worker[0]} == {("triageAd", "triageQueue")}
    assert {r["transport"] for r in worker[0]} == {"http", "websocket"}
    assert page1[1] and page1[2] == 30 and len(page1[0]) == len(page2[0]) == 7
    assert page2[0][0]["seq"] < page1[0][-1]["seq"]
    assert not any("variables" in r or "result" in r for r in rows)
    anonymous = [r for r in db[ROWS].find({}) if r["principal"] is None]
    assert [(r["fields"], r["phase"], r["subject"]) for r in anonymous] == [(["actionPlan"], "close", None)]


def test_the_dpo_asks_through_graphql(env, db):
    asyncio.run(operations(env))
    schema = build_schema()

    async def ask():
        log = AccessLog(load("gateway", env))
        try:
            context = {"principal": DPO, "access_log": log, "subjects": set()}
            result = await schema.execute_async(
                '{ accessLogForSubject(kind: "application", id: "app-1") { totalCount entries { principal role '
                'organisation operationType fields transport status traceId subject { kind id } } } }',
                context_value=context, middleware=[SubjectMiddleware()])
            denied = await schema.execute_async(
                '{ accessLogForPrincipal(subject: "u-dpo") { totalCount } }',
                context_value={"principal": WORKER, "access_log": log})
            return result, denied
        finally:
            await log.close_client()
    result, denied = asyncio.run(ask())
    assert not result.errors, result.errors
    page = result.data["accessLogForSubject"]
    assert page["totalCount"] == 5 and page["entries"][0]["principal"] == "u-officer-1"
    assert page["entries"][0]["subject"] == {"kind": "application", "id": "app-1"}
    assert denied.errors[0].extensions["code"] == "forbidden"


def test_two_gateway_instances_extend_one_chain(env, db):
    asyncio.run(operations(env, instances=3))
    seqs = sorted(r["seq"] for r in db[ROWS].find({}, {"seq": 1}))
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == 15 * 2 + 15 * 3 + 1
    assert db[HEAD].find_one({})["seq"] == len(seqs)
    done = verify(env)
    assert done.returncode == 0, done.stderr
    assert f"{len(seqs)} rows" in done.stdout


def test_an_instance_that_missed_the_other_ones_rows_links_after_them(env, db):
    from gateway.audit import MongoChain

    def row(n: int) -> dict:
        return {"v": 1, "at": None, "op": f"op-{n}", "phase": "open", "fields": ["triageQueue"]}

    async def appends():
        settings = load("gateway", env)
        first, second = MongoChain(settings), MongoChain(settings)
        try:
            await first.append([row(1)])
            await second.append([row(2), row(3)])  # the head first knows is now two rows behind
            await first.append([row(4)])
            await first.append([row(5)])
        finally:
            await first.close()
            await second.close()
    asyncio.run(appends())
    rows = sorted(db[ROWS].find({}), key=lambda r: r["seq"])
    assert [(r["seq"], r["op"]) for r in rows] == [(1, "op-1"), (2, "op-2"), (3, "op-3"), (4, "op-4"), (5, "op-5")]
    assert all(later["prev"] == earlier["hash"] for earlier, later in zip(rows, rows[1:]))
    done = verify(env)
    assert done.returncode == 0 and "5 rows" in done.stdout, done.stderr


def test_verify_names_an_edited_row(env, db):
    asyncio.run(operations(env))
    target = db[ROWS].find_one({"subject.id": "app-1"}, sort=[("seq", 1)])
    db[ROWS].update_one({"_id": target["_id"]}, {"$set": {"principal": "u-someone-else"}})
    done = verify(env)
    assert done.returncode == 1
    assert f"broken at row {target['seq']}:" in done.stderr and "edited" in done.stderr


def test_verify_names_an_edit_that_recomputed_the_hash(env, db):
    from gateway.audit import row_hash
    asyncio.run(operations(env))
    target = db[ROWS].find_one({"seq": 10})
    target["subject"] = {"kind": "application", "id": "app-innocent"}
    db[ROWS].update_one({"_id": target["_id"]}, {"$set": {"subject": target["subject"], "hash": row_hash(target)}})
    done = verify(env)
    assert done.returncode == 1 and "broken at row 11:" in done.stderr


def test_verify_names_a_deleted_row(env, db):
    asyncio.run(operations(env))
    db[ROWS].delete_one({"seq": 12})
    done = verify(env)
    assert done.returncode == 1 and "broken at row 12:" in done.stderr and "missing" in done.stderr


def test_verify_sees_the_newest_row_deleted(env, db):
    asyncio.run(operations(env))
    last = db[HEAD].find_one({})["seq"]
    db[ROWS].delete_one({"seq": last})
    done = verify(env)
    assert done.returncode == 1 and f"broken at row {last}:" in done.stderr


def test_verify_names_reordered_rows(env, db):
    asyncio.run(operations(env))
    a, b = db[ROWS].find_one({"seq": 5}), db[ROWS].find_one({"seq": 6})
    for row, other in ((a, b), (b, a)):
        db[ROWS].replace_one({"_id": row["_id"]}, {**other, "_id": row["_id"], "seq": row["seq"]})
    done = verify(env)
    assert done.returncode == 1 and "broken at row 5:" in done.stderr


def test_an_unavailable_database_refuses_personal_operations(env):
    dead = {**env, "MONGO_URI": f"mongodb://127.0.0.1:{free_port()}/", "ACCESS_LOG_WRITE_TIMEOUT_SECONDS": "0.5"}

    async def attempt():
        log = AccessLog(load("gateway", dead))
        try:
            with pytest.raises(AccessLogUnavailable):
                await log.open(OFFICER, "query", ["assessmentNotes"], "http")
            with pytest.raises(AccessLogUnavailable):
                await log.open(WORKER, "mutation", ["moveTriageItem"], "websocket")
            public = await log.open(None, "query", ["actionPlan"], "http")
            assert not public.personal
        finally:
            await log.close_client(grace_s=0.1)
    asyncio.run(attempt())


def test_verify_fails_when_it_cannot_read_the_log(env):
    done = verify({**env, "MONGO_URI": f"mongodb://127.0.0.1:{free_port()}/",
                   "ACCESS_LOG_WRITE_TIMEOUT_SECONDS": "0.5"})
    assert done.returncode == 2 and "cannot read" in done.stderr
