"""The gateway's edge without any service: limits, error formatting, HTTP and WebSocket rules, money scalar.

The app runs in-process (Starlette's TestClient); RPC is replaced per test, the access log by a recording fake.
"""
from __future__ import annotations

import logging
import time

import pytest
from graphql import GraphQLError, parse
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from gateway import graphiql
from gateway.app import create_app
from gateway.audit import AccessLogUnavailable, PUBLIC_FIELDS
from gateway.limits import LimitExceeded, Limits, check, measure, parse_within
from gateway.rpc import RpcPool
from gateway.scalars import Ore, dkk
from kit.settings import load
from tests.support import tokens
from tests.support.platform import PRINCIPAL_KEY



def fanout(levels: int, width: int = 2) -> str:
    """A few hundred bytes that expand to width**levels fields: each fragment spreads the next one ``width``
    times."""
    fragments = [f"fragment F{i} on ActionPlan {{ {' '.join([f'...F{i + 1}'] * width)} }}" for i in range(levels - 1)]
    fragments.append(f"fragment F{levels - 1} on ActionPlan {{ title }}")
    return "query { actionPlan { ...F0 } } " + " ".join(fragments)


# -- limits ------------------------------------------------------------------------------------------------------
def test_ordinary_queries_and_fragments_pass_the_limits():
    for query in ["{ actionPlan { initiatives { number period { start } milestones { code } } } }",
                  '{ organisation(orgId: "x") { applications { history { actor } } } }',
                  "query { actionPlan { ...A } } fragment A on ActionPlan { initiatives { fundings { period "
                  "{ start } } } }"]:
        parse_within(query)


def test_depth_counts_through_fragments():
    query = "query { actionPlan { ...A } } fragment A on ActionPlan { initiatives { number } }"
    assert measure(parse(query)).depth == 3
    with pytest.raises(LimitExceeded) as refused:
        check(parse(query), Limits(max_depth=2))
    assert refused.value.code == "query_too_deep"


def test_aliases_inside_fragments_count_at_every_spread():
    query = ("query { actionPlan { ...A ...B } } fragment B on ActionPlan { ...A ...A } "
             "fragment A on ActionPlan { a1: title a2: title a3: title }")
    assert measure(parse(query)).aliases == 9
    with pytest.raises(LimitExceeded) as refused:
        check(parse(query), Limits(max_aliases=8))
    assert refused.value.code == "too_many_aliases"


def test_alias_flooding_is_refused():
    query = "{ " + " ".join(f"a{i}: actionPlan {{ title }}" for i in range(21)) + " }"
    with pytest.raises(LimitExceeded) as refused:
        parse_within(query, Limits(max_aliases=20))
    assert refused.value.code == "too_many_aliases"


def test_fragment_fan_out_is_measured_once_per_fragment_and_refused_fast():
    query = fanout(30)  # 2**29 fields in about 1.3 kB
    started = time.perf_counter()
    with pytest.raises(LimitExceeded) as refused:
        parse_within(query)
    elapsed = time.perf_counter() - started
    print(f"fan-out of {len(query)} bytes (2**29 fields) refused in {elapsed * 1000:.2f} ms")
    assert refused.value.code == "query_too_complex" and elapsed < 0.05


def test_token_limit_stops_the_parser():
    with pytest.raises(LimitExceeded) as refused:
        parse_within("{ " + "actionPlan { title } " * 400 + "}", Limits(max_tokens=500))
    assert refused.value.code == "too_many_tokens"


@pytest.mark.parametrize("query, variables", [("{ triageQueue(limit: 10000) { total } }", None),
                                              ("query($n: Int) { triageQueue(first: $n) { total } }", {"n": 501})])
def test_list_arguments_have_a_maximum(query, variables):
    with pytest.raises(LimitExceeded) as refused:
        parse_within(query, Limits(max_list=500), variables)
    assert refused.value.code == "list_too_large"


def test_introspection_is_not_counted_against_depth():
    parse_within("{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { "
                 "ofType { name } } } } } } } } } } } }", Limits(max_depth=3))


def test_syntax_errors_have_a_code_and_never_quote_a_value():
    with pytest.raises(GraphQLError) as refused:
        parse_within('{ a(b: "Jane Doe" c: 4512345678 99887766) }')
    assert refused.value.extensions["code"] == "syntax_error"
    assert "99887766" not in refused.value.message and "Jane" not in refused.value.message


# -- the app in-process -----------------------------------------------------------------------------------------
class FakeAccessLog:
    def __init__(self, fail: bool = False) -> None:
        self.opened: list[tuple] = []
        self.closed: list[tuple] = []
        self.fail = fail

    @staticmethod
    def personal(fields) -> bool:
        return any(name not in PUBLIC_FIELDS for name in fields)

    async def open(self, principal, operation_type, fields, transport):
        if self.fail:
            raise AccessLogUnavailable("down")
        entry = {"principal": principal, "type": operation_type, "fields": list(fields), "transport": transport,
                 "personal": self.personal(fields)}
        self.opened.append(entry)
        return type("Entry", (), entry)

    async def close(self, entry, status, subjects):
        self.closed.append((entry.fields, entry.transport, status, set(subjects)))

    async def ping(self):
        return None


ACTION_PLAN = {"id": "amendment-2015", "title": "Amendment", "currency": "DKK", "funder_id": "x", "funder_name": "y",
               "initiatives": []}


def settings(**env):
    return load("gateway", {"PRINCIPAL_KEY": PRINCIPAL_KEY, **tokens.env(), **env})


@pytest.fixture
def rpc(monkeypatch):
    """RPC answers: service.method -> value or exception."""
    answers: dict = {"grants.get_action_plan": ACTION_PLAN}

    async def call(self, service, method, *, principal, **kwargs):
        answer = answers.get(f"{service}.{method}")
        if isinstance(answer, Exception):
            raise answer
        return answer
    monkeypatch.setattr(RpcPool, "call", call)
    return answers


def client(access_log=None, **env) -> TestClient:
    return TestClient(create_app(settings(**env), access_log=access_log or FakeAccessLog()),
                      base_url="http://127.0.0.1:8000")


def post(c: TestClient, query: str, variables=None, headers=None):
    return c.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers or {})


def test_an_anonymous_query_of_public_data_runs_and_is_audited(rpc):
    audit = FakeAccessLog()
    answer = post(client(audit), "{ plan: actionPlan { title } }")
    assert answer.status_code == 200 and answer.json() == {"data": {"plan": {"title": "Amendment"}}}
    assert audit.opened[0]["fields"] == ["actionPlan"] and audit.opened[0]["transport"] == "http"
    assert audit.opened[0]["principal"].anonymous and audit.closed[0][2] == "ok"


def test_a_bad_token_is_refused_before_anything_runs(rpc):
    audit = FakeAccessLog()
    answer = post(client(audit), "{ actionPlan { title } }", headers={"Authorization": "Bearer not-a-jwt"})
    assert answer.status_code == 401 and answer.json()["errors"][0]["extensions"]["code"] == "unauthenticated"
    assert audit.opened == []


@pytest.mark.parametrize("content_type, body", [
    ("application/x-www-form-urlencoded", "query=%7B+actionPlan+%7B+title+%7D+%7D"),
    ("multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
                                        '{"query": "{ actionPlan { title } }"}\r\n--x--\r\n'),
    ("text/plain", '{"query": "{ actionPlan { title } }"}')])
def test_only_json_posts_are_accepted(rpc, content_type, body):
    answer = client().post("/graphql", content=body, headers={"Content-Type": content_type})
    assert answer.status_code == 415 and answer.json()["errors"][0]["extensions"]["code"] == "unsupported_media_type"


def test_get_never_runs_a_query(rpc):
    answer = client(GRAPHIQL="off").get("/graphql", params={"query": "{ actionPlan { title } }"})
    assert answer.status_code == 405 and answer.json()["errors"][0]["extensions"]["code"] == "method_not_allowed"


def test_a_large_body_is_refused(rpc):
    answer = post(client(), "{ actionPlan { title } }", {"pad": "x" * (1024 * 1024)})
    assert answer.status_code == 413 and answer.json()["errors"][0]["extensions"]["code"] == "body_too_large"


def test_batching_only_when_configured(rpc):
    batch = [{"query": "{ actionPlan { title } }"}] * 2
    refused = client().post("/graphql", json=batch)
    assert refused.status_code == 400 and refused.json()["errors"][0]["extensions"]["code"] == "batching_disabled"
    allowed = client(GRAPHQL_BATCH_MAX="2").post("/graphql", json=batch)
    assert allowed.status_code == 200 and [r["data"]["actionPlan"]["title"] for r in allowed.json()] == ["Amendment"] * 2
    too_many = client(GRAPHQL_BATCH_MAX="2").post("/graphql", json=batch * 2)
    assert too_many.json()["errors"][0]["extensions"]["code"] == "batch_too_large"


def test_introspection_can_be_switched_off(rpc):
    query = "{ __schema { queryType { name } } }"
    assert post(client(), query).json()["data"]["__schema"]["queryType"]["name"] == "Query"
    answer = post(client(GRAPHQL_INTROSPECTION="off"), query).json()
    assert answer["errors"][0]["extensions"]["code"] == "introspection_disabled"


def test_cors_is_closed_by_default_and_opens_for_listed_origins(rpc):
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    assert "access-control-allow-origin" not in client().options("/graphql", headers=preflight).headers
    opened = client(GRAPHQL_CORS_ORIGINS="https://app.example").options(
        "/graphql", headers={**preflight, "Origin": "https://app.example"})
    assert opened.headers["access-control-allow-origin"] == "https://app.example"


def test_the_fan_out_query_is_refused_over_http_with_its_code(rpc):
    started = time.perf_counter()
    answer = post(client(), fanout(30)).json()
    assert answer["errors"][0]["extensions"]["code"] == "query_too_complex"
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("query, variables, code", [
    ("{ actionPlan { title } ", None, "syntax_error"),
    ("{ actionPlan { nosuchfield } }", None, "validation_failed"),
    ('{ grant(grantId: 4512345678.5) { balance { committedOre } } }', None, "validation_failed"),
    ("query($id: ID!) { grant(grantId: $id) { balance { committedOre } } }", {"id": {"name": "Jane Doe"}}, "invalid_variables"),
])
def test_client_errors_carry_a_code_and_no_value(rpc, query, variables, code, caplog):
    caplog.set_level(logging.INFO)
    answer = post(client(), query, variables).json()
    error = answer["errors"][0]
    assert error["extensions"]["code"] == code, error
    assert "4512345678" not in str(answer) and "Jane Doe" not in str(answer)
    assert "4512345678" not in caplog.text and "Jane Doe" not in caplog.text


def test_faults_are_masked_with_a_reference_in_the_log(rpc, caplog):
    rpc["grants.get_action_plan"] = RuntimeError("connection to mongodb://secret failed for Jane Doe")
    caplog.set_level(logging.INFO)
    answer = post(client(), "{ actionPlan { title } }").json()
    error = answer["errors"][0]
    assert error["extensions"]["code"] == "internal_error" and error["message"].startswith("internal error")
    reference = error["extensions"]["reference"]
    assert reference in caplog.text and "RuntimeError" in caplog.text
    assert "Jane Doe" not in caplog.text and "secret" not in caplog.text and "secret" not in str(answer)


def test_personal_data_fails_closed_when_the_access_log_is_down(rpc):
    down = client(FakeAccessLog(fail=True))
    assert post(down, "{ actionPlan { title } }").json()["data"]["actionPlan"]["title"] == "Amendment"
    answer = post(down, '{ grant(grantId: "g-1") { balance { committedOre } } }', headers=tokens.bearer("grant_officer", "ministry"))
    assert answer.json()["errors"][0]["extensions"]["code"] == "access_log_unavailable"


def test_graphiql_is_served_from_the_gateway_with_a_csp(rpc):
    if graphiql.missing():
        pytest.skip("GraphiQL's files are not installed (make setup)")
    c = client()
    page = c.get("/graphql", headers={"Accept": "text/html"})
    csp = page.headers["content-security-policy"]
    assert page.status_code == 200 and "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "https://" not in page.text and "<script>" not in page.text
    for name in graphiql.ASSETS:
        assert c.get(graphiql.PREFIX + name).status_code == 200
    assert c.get(graphiql.PREFIX + "..%2Fpackage.json").status_code == 404
    assert client(GRAPHIQL="off").get(graphiql.PREFIX + "graphiql.min.js").status_code == 404


# -- WebSocket ---------------------------------------------------------------------------------------------------
WS = {"subprotocols": ["graphql-transport-ws"]}


def test_websocket_from_a_foreign_origin_is_refused(rpc):
    with pytest.raises(WebSocketDisconnect) as refused:
        with client().websocket_connect("/graphql", headers={"Origin": "https://evil.example"}, **WS):
            pass
    assert refused.value.code == 4403


def test_websocket_without_a_token_is_closed_at_connection_init(rpc):
    with client().websocket_connect("/graphql", headers={"Origin": "http://testserver"}, **WS) as ws:
        ws.send_json({"type": "connection_init", "payload": {}})
        with pytest.raises(WebSocketDisconnect) as refused:
            ws.receive_json()
    assert refused.value.code == 4403


def test_websocket_operations_are_authorized_and_audited_like_http(rpc):
    audit = FakeAccessLog()
    c = client(audit)
    with c.websocket_connect("/graphql", headers={"Origin": "http://testserver"}, **WS) as ws:
        ws.send_json({"type": "connection_init", "payload": tokens.bearer("evaluator", "ministry")})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": "{ actionPlan { title } }"}})
        assert ws.receive_json()["payload"] == {"data": {"actionPlan": {"title": "Amendment"}}}
        assert ws.receive_json() == {"type": "complete", "id": "1"}
        ws.send_json({"id": "2", "type": "subscribe", "payload": {
            "query": 'mutation { registerOrganisation(requestId: "req-12345678", orgId: "o-1", name: "x", '
                     'roles: [APPLICANT]) { id } }'}})
        denied = ws.receive_json()  # an operation without data ends in an "error" message (ariadne's choice)
        assert denied["type"] == "error" and denied["payload"][0]["extensions"]["code"] == "forbidden", denied
        ws.send_json({"id": "3", "type": "subscribe", "payload": {"query": fanout(30)}})
        assert ws.receive_json()["payload"][0]["extensions"]["code"] == "query_too_complex"
    assert [(e["type"], e["transport"], e["principal"].role) for e in audit.opened] == [
        ("query", "websocket", "evaluator"), ("mutation", "websocket", "evaluator")]
    assert audit.closed[1][2] == "forbidden"


# -- money -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [(350000000, 350000000), (-5, -5)])
def test_ore_accepts_integers(value, expected):
    assert Ore.parse_value(value) == expected


@pytest.mark.parametrize("value", [12.5, "12.5", "100", True, None, 2 ** 60])  # a string is never read as øre
def test_ore_refuses_anything_fractional_or_not_a_number(value):
    with pytest.raises(GraphQLError):
        Ore.parse_value(value)


def test_dkk_is_exact():
    assert str(dkk(350000000)) == "3500000" and str(dkk(12345)) == "123.45" and dkk(None) is None
