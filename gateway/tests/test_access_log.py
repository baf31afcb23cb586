"""The access log without a server: the chain and its verification, the writer's fail-closed rules and bounded
backlog (on an in-memory chain), which objects count as data subjects, and the DPO's query fields."""
from __future__ import annotations

import asyncio
import copy
from types import SimpleNamespace

import pytest
from graphql import parse

from gateway.audit import (
    GENESIS,
    AccessLog,
    AccessLogUnavailable,
    ChainCheck,
    SubjectMiddleware,
    cursor_of,
    link,
    operation_fields,
    row_hash,
    verify_rows,
)
from gateway.schema import build_schema
from kit.settings import load

SCHEMA = build_schema()
OFFICER = SimpleNamespace(subject="u-officer", role="grant_officer", organisation="ministry", region=None)
DPO = SimpleNamespace(subject="u-dpo", role="dpo", organisation="ministry", region=None)


def settings(**env):
    return load("gateway", {"ACCESS_LOG_WRITE_TIMEOUT_SECONDS": "0.3", **env})


class MemoryChain:
    """The storage interface of ``MongoChain`` on a list; ``fail`` makes writes raise, ``hold`` makes them wait."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.head: dict | None = None
        self.fail: Exception | None = None
        self.hold: asyncio.Event | None = None
        self.batches: list[int] = []

    async def append(self, docs):
        if self.hold is not None:
            await self.hold.wait()
        if self.fail is not None:
            raise self.fail
        seq, prev = (self.head["seq"], self.head["hash"]) if self.head else (0, GENESIS)
        rows = link(docs, seq, prev)
        self.rows.extend(copy.deepcopy(rows))
        self.head = {"_id": "chain", "seq": rows[-1]["seq"], "hash": rows[-1]["hash"]}
        self.batches.append(len(rows))
        return rows

    async def page(self, query, first, before):
        def matches(row):
            return all(_get(row, k) == v for k, v in query.items())
        found = [r for r in sorted(self.rows, key=lambda r: -r["seq"]) if matches(r)]
        total = len(found)
        if before is not None:
            found = [r for r in found if r["seq"] < before]
        return found[:first], len(found) > first, total

    async def verify(self):
        return verify_rows(sorted(self.rows, key=lambda r: r["seq"]), self.head)

    async def ping(self):
        return None

    async def close(self):
        return None


def _get(row, dotted):
    for part in dotted.split("."):
        row = (row or {}).get(part)
    return row


def rows_of(n: int) -> tuple[list[dict], dict]:
    docs = [{"v": 1, "at": "2026-01-01T00:00:00.000+00:00", "op": f"op{i}", "phase": "close", "principal": "u-1",
             "role": "grant_officer", "organisation": "ministry", "region": None, "operationType": "query",
             "fields": ["application"], "transport": "http", "status": "ok", "traceId": None,
             "subject": {"kind": "application", "id": f"app-{i}"}} for i in range(n)]
    rows = link(docs, 0, GENESIS)
    return rows, {"_id": "chain", "seq": rows[-1]["seq"], "hash": rows[-1]["hash"]}


# -- the chain ---------------------------------------------------------------------------------------------------

def test_an_untouched_chain_verifies():
    rows, head = rows_of(5)
    verdict = verify_rows(rows, head)
    assert verdict.ok and verdict.rows == 5 and verdict.head_seq == 5 and verdict.head_hash == rows[-1]["hash"]
    assert verify_rows([], None).ok


def test_each_hash_covers_the_previous_one():
    rows, _ = rows_of(3)
    assert rows[0]["prev"] == GENESIS and rows[1]["prev"] == rows[0]["hash"] and rows[2]["prev"] == rows[1]["hash"]
    assert all(row_hash(r) == r["hash"] for r in rows)


def test_an_edited_row_is_named():
    rows, head = rows_of(5)
    rows[2]["principal"] = "someone-else"
    verdict = verify_rows(rows, head)
    assert not verdict.ok and verdict.broken_seq == 3 and "edited" in verdict.reason
    assert "row 3" in str(verdict)


def test_an_edited_row_with_a_recomputed_hash_breaks_the_next_link():
    rows, head = rows_of(5)
    rows[2]["subject"] = {"kind": "application", "id": "app-other"}
    rows[2]["hash"] = row_hash(rows[2])
    verdict = verify_rows(rows, head)
    assert not verdict.ok and verdict.broken_seq == 4


def test_a_deleted_row_is_named():
    rows, head = rows_of(5)
    del rows[1]
    verdict = verify_rows(rows, head)
    assert not verdict.ok and verdict.broken_seq == 2 and "missing" in verdict.reason


def test_deleting_the_newest_rows_is_seen_through_the_head():
    rows, head = rows_of(5)
    verdict = verify_rows(rows[:3], head)
    assert not verdict.ok and verdict.broken_seq == 4 and "newest rows deleted" in verdict.reason


def test_reordered_rows_are_named():
    rows, head = rows_of(5)
    swapped = [dict(r) for r in rows]
    for field in ("op", "subject", "prev", "hash"):
        swapped[1][field], swapped[2][field] = rows[2][field], rows[1][field]
    verdict = verify_rows(swapped, head)
    assert not verdict.ok and verdict.broken_seq == 2


def test_renumbered_rows_are_named():
    rows, head = rows_of(4)
    rows[1]["seq"], rows[2]["seq"] = 3, 2
    verdict = verify_rows(sorted(rows, key=lambda r: r["seq"]), head)
    assert not verdict.ok and verdict.broken_seq == 2


def test_a_missing_head_is_reported():
    rows, _ = rows_of(2)
    verdict = verify_rows(rows, None)
    assert not verdict.ok and "head" in verdict.reason


def test_the_check_stops_at_the_first_break():
    rows, head = rows_of(6)
    rows[1]["status"], rows[4]["status"] = "x", "y"
    check = ChainCheck()
    verdicts = [check.feed(r) for r in rows]
    assert verdicts[0] is None and verdicts[1].broken_seq == 2 and check.finish(head).broken_seq == 2


# -- the writer --------------------------------------------------------------------------------------------------

def test_personal_operations_write_an_open_row_and_one_close_row_per_subject():
    async def scenario():
        store = MemoryChain()
        log = AccessLog(settings(), store)
        entry = await log.open(OFFICER, "query", ["applications", "applications", "pools"], "http",
                               trace_id="ab" * 16)
        assert [r["phase"] for r in store.rows] == ["open"]
        await log.close(entry, "ok", {("application", "app-1"), ("application", "app-2")})
        await log.close_client()
        return store
    store = asyncio.run(scenario())
    assert [(r["phase"], r["subject"]) for r in store.rows] == [
        ("open", None), ("close", {"kind": "application", "id": "app-1"}),
        ("close", {"kind": "application", "id": "app-2"})]
    first = store.rows[0]
    assert (first["principal"], first["role"], first["organisation"], first["operationType"], first["fields"],
            first["transport"], first["traceId"]) == ("u-officer", "grant_officer", "ministry", "query",
                                                      ["applications", "pools"], "http", "ab" * 16)
    assert len({r["op"] for r in store.rows}) == 1 and verify_rows(store.rows, store.head).ok


def test_public_operations_are_logged_after_and_never_refused():
    async def scenario():
        store = MemoryChain()
        store.fail = ConnectionError("down")
        log = AccessLog(settings(), store)
        entry = await log.open(None, "query", ["actionPlan"], "websocket")
        assert store.rows == [] and not entry.personal
        store.fail = None
        await log.close(entry, "ok", set())
        await log.close_client()
        return store
    store = asyncio.run(scenario())
    assert [(r["phase"], r["principal"], r["subject"], r["transport"]) for r in store.rows] == [
        ("close", None, None, "websocket")]


def test_personal_is_deny_by_default():
    assert not AccessLog.personal(["actionPlan", "pools", "__typename"])
    assert AccessLog.personal(["actionPlan", "applications"])
    assert AccessLog.personal(["someFieldAddedTomorrow"])


def test_open_fails_closed_when_the_log_cannot_be_written():
    async def scenario():
        store = MemoryChain()
        store.fail = ConnectionError("down")
        log = AccessLog(settings(), store)
        with pytest.raises(AccessLogUnavailable):
            await log.open(OFFICER, "mutation", ["awardGrantApplication"], "http")
        store.fail = None  # the database is back: the next operation runs and is logged
        entry = await log.open(OFFICER, "query", ["application"], "http")
        await log.close(entry, "ok", {("application", "app-9")})
        await log.close_client()
        return store
    store = asyncio.run(scenario())
    assert [r["fields"] for r in store.rows] == [["application"], ["application"]]


def test_the_backlog_is_bounded_and_a_full_one_refuses_personal_operations():
    async def scenario():
        store = MemoryChain()
        store.hold = asyncio.Event()   # the database stalls
        log = AccessLog(settings(ACCESS_LOG_BACKLOG="3", ACCESS_LOG_BATCH_SIZE="1",
                                 ACCESS_LOG_WRITE_TIMEOUT_SECONDS="5"), store)
        waiting = [asyncio.create_task(log.open(OFFICER, "query", ["triageAd"], "http")) for _ in range(3)]
        await asyncio.sleep(0.05)
        assert log.backlog == 3
        with pytest.raises(AccessLogUnavailable, match="backlog is full"):
            await log.open(OFFICER, "query", ["triageAd"], "http")
        public = await log.open(None, "query", ["actionPlan"], "http")   # published data still answers
        assert log.backlog == 3
        store.hold.set()
        entries = await asyncio.gather(*waiting)
        await log.close(public, "ok", set())
        await log.close_client()
        return store, entries
    store, entries = asyncio.run(scenario())
    assert len(store.rows) == 4 and len(entries) == 3 and verify_rows(store.rows, store.head).ok


def test_concurrent_operations_share_transactions():
    async def scenario():
        store = MemoryChain()
        log = AccessLog(settings(), store)

        async def one(i):
            entry = await log.open(OFFICER, "query", ["triageAd"], "http")
            await log.close(entry, "ok", {("ad", f"example.dk/{i}")})
        await asyncio.gather(*(one(i) for i in range(50)))
        await log.close_client()
        return store
    store = asyncio.run(scenario())
    assert len(store.rows) == 100 and len(store.batches) < 50 and verify_rows(store.rows, store.head).ok


def test_close_raises_when_its_rows_cannot_be_written_in_time():
    async def scenario():
        store = MemoryChain()
        log = AccessLog(settings(), store)
        entry = await log.open(OFFICER, "query", ["application"], "http")
        store.fail = ConnectionError("down")
        with pytest.raises(AccessLogUnavailable):
            await log.close(entry, "ok", {("application", "app-1")})
        assert log.backlog == 1          # kept for when the database is back
        store.fail = None
        await log.close_client(grace_s=2)
        return store
    store = asyncio.run(scenario())
    assert [r["phase"] for r in store.rows] == ["open", "close"]


def test_nothing_but_names_and_codes_reaches_a_row():
    async def scenario():
        store = MemoryChain()
        log = AccessLog(settings(), store)
        with pytest.raises(ValueError):
            await log.open(OFFICER, "query", ['application(applicationId: "+4512345678")'], "http")
        with pytest.raises(ValueError):
            await log.open(OFFICER, "DROP", ["application"], "http")
        entry = await log.open(OFFICER, "query", ["application"], "http")
        await log.close(entry, "Jane Doe +45 12345678", {("application", "app-1"), ("phone", "+4512345678"),
                                                          ("application", "x" * 500)})
        await log.close_client()
        return store
    store = asyncio.run(scenario())
    text = repr(store.rows)
    assert "12345678" not in text and "Jane" not in text
    assert [r["status"] for r in store.rows] == [None, "other"]
    assert [r["subject"] for r in store.rows] == [None, {"kind": "application", "id": "app-1"}]


# -- operations and subjects -------------------------------------------------------------------------------------

def test_operation_fields_come_from_the_parse_not_the_operation_name():
    document = parse("""
        query actionPlan { a: applications { id } ...Root ... on Query { triageAd(adKey: "k") { adKey } } }
        fragment Root on Query { pools { code } ...Again }
        fragment Again on Query { pools { code } ...Root }
        mutation other { submitAd(ad: {}, requestId: "r") { status } }
    """)
    assert operation_fields(document, "actionPlan") == ("query", ["applications", "pools", "triageAd"])
    assert operation_fields(document, "other") == ("mutation", ["submitAd"])
    with pytest.raises(ValueError):
        operation_fields(document, None)   # two operations and no name: nothing to execute


class FakeRpc:
    def __init__(self, answers: dict) -> None:
        self.answers = answers

    async def call(self, service, method, **_kwargs):
        return self.answers[method]


def execute(query: str, answers: dict, principal=OFFICER, access_log=None):
    context = {"rpc": FakeRpc(answers), "actor": "u", "request": None, "principal": principal,
               "access_log": access_log, "subjects": set()}
    result = asyncio.run(SCHEMA.execute_async(query, context_value=context, middleware=[SubjectMiddleware()]))
    return result, context["subjects"]


APP = {"id": "app-1", "pool_code": "P", "applicant_id": "org-1", "knowledge_partner_id": None, "title": "t",
       "description": "d", "requested_ore": 1, "start": "2016-01-01", "end": "2016-12-31", "state": "draft",
       "note_count": 0, "history": []}


def test_every_resolved_subject_object_is_recorded():
    result, subjects = execute("{ applications { id title } organisations { name } }",
                               {"applications": [APP, {**APP, "id": "app-2"}],
                                "organisations": [{"id": "org-1", "name": "n", "roles": []}]})
    assert not result.errors
    assert subjects == {("application", "app-1"), ("application", "app-2"), ("organisation", "org-1")}


def test_subjects_are_recorded_through_aliases_and_fragments_even_when_the_id_is_not_selected():
    result, subjects = execute("{ x: applications { ...F } } fragment F on GrantApplication { title }",
                               {"applications": [APP]})
    assert not result.errors and subjects == {("application", "app-1")}


def test_an_argument_is_recorded_only_when_it_named_something():
    _, nothing = execute('{ assessmentNotes(applicationId: "+4512345678") { text } }', {"assessment_notes": []})
    assert nothing == set()
    _, found = execute('{ assessmentNotes(applicationId: "app-3") { text } }',
                       {"assessment_notes": [{"author": "a", "at": "t", "text": "x"}]})
    assert found == {("application", "app-3")}


def test_public_data_touches_no_subject():
    plan = {"id": "p", "title": "t", "currency": "DKK", "funder_id": "f", "funder_name": "n", "initiatives": []}
    result, subjects = execute("{ actionPlan { title } }", {"get_action_plan": plan})
    assert not result.errors and subjects == set()


# -- the DPO's queries -------------------------------------------------------------------------------------------

def filled_log():
    store = MemoryChain()
    log = AccessLog(settings(), store)

    async def fill():
        for i in range(5):
            entry = await log.open(OFFICER, "query", ["application"], "http")
            await log.close(entry, "ok", {("application", "app-1")} if i % 2 == 0 else {("application", "app-2")})
    asyncio.run(fill())
    return log


PAGE = """query($after: String) { accessLogForSubject(kind: "application", id: "app-1", first: 2, after: $after) {
    totalCount entries { seq phase principal role organisation operationType fields transport status
    subject { kind id } } pageInfo { endCursor hasNextPage } } }"""


def test_the_dpo_pages_through_who_touched_a_subject():
    log = filled_log()
    context = {"principal": DPO, "access_log": log, "subjects": set()}
    first = asyncio.run(SCHEMA.execute_async(PAGE, context_value=context, middleware=[SubjectMiddleware()]))
    assert not first.errors, first.errors
    page = first.data["accessLogForSubject"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"]
    assert [e["seq"] for e in page["entries"]] == [10, 6]   # newest first: the close rows of operations 4, 2 and 0
    assert page["entries"][0] == {"seq": 10, "phase": "close", "principal": "u-officer", "role": "grant_officer",
                                  "organisation": "ministry", "operationType": "query", "fields": ["application"],
                                  "transport": "http", "status": "ok",
                                  "subject": {"kind": "application", "id": "app-1"}}
    rest = asyncio.run(SCHEMA.execute_async(PAGE, context_value=context,
                                            variable_values={"after": page["pageInfo"]["endCursor"]}))
    assert [e["seq"] for e in rest.data["accessLogForSubject"]["entries"]] == [2]
    assert not rest.data["accessLogForSubject"]["pageInfo"]["hasNextPage"]
    assert context["subjects"] == {("application", "app-1")}   # the DPO's look is itself logged per subject


def test_the_dpo_sees_what_a_principal_did():
    log = filled_log()
    query = '{ accessLogForPrincipal(subject: "u-officer", first: 200) { totalCount entries { seq subject { id } } } }'
    result = asyncio.run(SCHEMA.execute_async(query, context_value={"principal": DPO, "access_log": log}))
    assert not result.errors and result.data["accessLogForPrincipal"]["totalCount"] == 10


@pytest.mark.parametrize("principal", [None, OFFICER])
def test_nobody_else_reads_the_access_log(principal):
    result = asyncio.run(SCHEMA.execute_async(PAGE, context_value={"principal": principal,
                                                                   "access_log": filled_log()}))
    assert result.errors[0].extensions["code"] == "forbidden"


@pytest.mark.parametrize("query, field", [
    ('{ accessLogForSubject(kind: "phone", id: "1") { totalCount } }', "kind"),
    ('{ accessLogForSubject(kind: "ad", id: "a", first: 1000) { totalCount } }', "first"),
    ('{ accessLogForSubject(kind: "ad", id: "a", after: "bm9wZQ==") { totalCount } }', "after"),
])
def test_bad_arguments_have_codes(query, field):
    result = asyncio.run(SCHEMA.execute_async(query, context_value={"principal": DPO, "access_log": filled_log()}))
    assert result.errors[0].extensions == {"code": "invalid_input", "field": field}


def test_cursors_are_opaque_and_round_trip():
    from gateway.audit import seq_of
    assert seq_of(cursor_of(42)) == 42 and seq_of("garbage!") is None


def test_an_outage_never_slows_public_answers():
    async def scenario():
        store = MemoryChain()
        store.fail = ConnectionError("down")
        log = AccessLog(settings(ACCESS_LOG_WRITE_TIMEOUT_SECONDS="5"), store)
        loop = asyncio.get_running_loop()
        started = loop.time()
        entry = await log.open(None, "query", ["actionPlan"], "http")
        await log.close(entry, "ok", set())
        took = loop.time() - started
        store.fail = None
        await log.close_client(grace_s=3)
        return store, took
    store, took = asyncio.run(scenario())
    assert took < 0.5 and [r["fields"] for r in store.rows] == [["actionPlan"]]
