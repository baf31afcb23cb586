"""Commands through the gateway, without any service: the client's requestId is required and forwarded as it is, and
a call without an answer is reported by what the client can know (outcome unknown for a command)."""
from __future__ import annotations

import asyncio

import pytest
from graphql import build_schema as build_sdl

from gateway.rpc import NoAnswer, ServiceUnavailable
from gateway.schema import build_schema
from kit.errors import CommandRejected
from tools.contracts import SDL

SCHEMA = build_schema()
# mutations that change no state and so need no idempotency key: none today; add one here only with a reason
READ_ONLY_MUTATIONS: frozenset[str] = frozenset()


def test_every_state_changing_mutation_of_the_sdl_requires_a_request_id():
    mutation = build_sdl(SDL.read_text()).mutation_type
    assert mutation is not None and len(mutation.fields) >= 20
    missing = {}
    for name, field in mutation.fields.items():
        if name in READ_ONLY_MUTATIONS:
            continue
        argument = field.args.get("requestId")
        if argument is None or str(argument.type) != "String!":
            missing[name] = None if argument is None else str(argument.type)
        elif "same" not in (argument.description or "") or "retry" not in argument.description.lower():
            missing[name] = "description does not say a retry must reuse it"
    assert missing == {}


class FakeRpc:
    """Records each call; answers with ``answer`` or raises ``fault``."""

    def __init__(self, fault: Exception | None = None, answer=None) -> None:
        self.fault, self.answer, self.calls = fault, answer, []

    async def call(self, service, method, **kwargs):
        self.calls.append((service, method, kwargs))
        if self.fault is not None:
            raise self.fault
        return self.answer


def run(query: str, rpc: FakeRpc, variables: dict | None = None):
    context = {"rpc": rpc, "actor": "officer-1", "request": None}
    return asyncio.run(SCHEMA.execute_async(query, variable_values=variables, context_value=context))


REGISTER = ('mutation($rid: String!) { registerOrganisation(orgId: "DK-CVR-20453044", name: "M", roles: [FUNDER], '
            'requestId: $rid) { id } }')
DISBURSE = ('mutation { disburseGrant(grantId: "app-1", amountOre: 100, paidOn: "2016-03-01", requestId: "pay-1-try") '
            '{ code } }')


def code_of(result) -> str:
    assert result.errors, result
    return result.errors[0].extensions["code"]


def test_a_mutation_without_request_id_is_refused_before_any_call():
    rpc = FakeRpc(answer={"id": "x", "name": "M", "roles": []})
    result = run('mutation { registerOrganisation(orgId: "DK-CVR-20453044", name: "M", roles: [FUNDER]) { id } }',
                 rpc)
    assert result.errors and "requestId" in result.errors[0].message
    assert rpc.calls == []


def test_the_clients_request_id_is_forwarded_unchanged_and_a_retry_sends_the_same():
    rpc = FakeRpc(answer={"id": "DK-CVR-20453044", "name": "M", "roles": ["funder"]})
    for _ in range(2):
        assert not run(REGISTER, rpc, {"rid": "client-key-0001"}).errors
    assert [c[2]["request_id"] for c in rpc.calls] == ["client-key-0001", "client-key-0001"]
    triage = FakeRpc(answer={"state": "closed", "history": []})
    assert not run('mutation { closeTriageItem(clusterId: "cl-00000000000000a1", reason: "gone", '
                   'requestId: "close-0001") { state } }', triage).errors
    assert triage.calls[0][2]["request_id"] == "close-0001"


def test_a_command_without_an_answer_is_outcome_unknown_and_says_to_retry_with_the_same_request_id():
    result = run(DISBURSE, FakeRpc(NoAnswer("grants", "no answer within 10s")))
    assert code_of(result) == "outcome_unknown"
    message = result.errors[0].message
    assert "may or may not have run" in message and "same requestId" in message


def test_a_query_without_an_answer_is_a_service_timeout():
    result = run("{ pools { code } }", FakeRpc(NoAnswer("grants", "no answer within 10s")))
    assert code_of(result) == "service_timeout"


@pytest.mark.parametrize("query", [DISBURSE, "{ pools { code } }"])
def test_no_instance_running_stays_service_unavailable(query):
    result = run(query, FakeRpc(ServiceUnavailable("grants", "no instance is running")))
    assert code_of(result) == "service_unavailable"


def test_an_expired_request_is_reported_with_its_own_code():
    rejected = CommandRejected("request_expired", "the request arrived after its caller stopped waiting")
    assert code_of(run(DISBURSE, FakeRpc(rejected))) == "request_expired"
