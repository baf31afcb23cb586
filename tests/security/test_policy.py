"""The access policy as data (policy/access.toml, kit.policy) and the service-side check in the Command entrypoint,
without a broker: the file covers exactly the schema's root fields and the services' RPC methods, decisions follow
the file, a malformed file fails at start-up, and a request without an allowed principal never reaches a worker."""
from __future__ import annotations

import importlib
import time
from types import SimpleNamespace

import pytest
from nameko.rpc import Rpc

from kit.errors import CommandRejected
from kit.nameko_kit import CALLER_KEY, CallerInfo, Command
from kit.policy import PolicyError, parse, policy
from kit.principal import ANONYMOUS, HEADER, Principal, seal

SERVICES = ("grants", "ad_triage", "evaluation", "outreach")
KEY = b"p" * 32
NGO = "DK-CVR-10000009"


def rpc_methods(service: str) -> set[str]:
    cls = importlib.import_module(f"services.{service}.service").SERVICE
    return {name for name in dir(cls)
            if any(isinstance(e, Command) for e in getattr(getattr(cls, name), "nameko_entrypoints", ()))}


def test_the_policy_covers_every_root_field_of_the_schema_and_nothing_else():
    from gateway.schema import build_schema
    policy().check_schema(build_schema().graphql_schema)


@pytest.mark.parametrize("service", SERVICES)
def test_the_policy_covers_every_rpc_method_and_nothing_else(service):
    methods = rpc_methods(service)
    assert "health" in methods
    policy().check_service(service, methods)


@pytest.mark.parametrize("service", SERVICES)
def test_no_rpc_method_bypasses_the_checking_entrypoint(service):
    cls = importlib.import_module(f"services.{service}.service").SERVICE
    for name in dir(cls):
        for entry in getattr(getattr(cls, name), "nameko_entrypoints", ()):
            assert not isinstance(entry, Rpc) or isinstance(entry, Command), f"{service}.{name} is plain @rpc"


def who(role, org=None, region=None):
    return Principal(f"t-{role}", role, org, region)


@pytest.mark.parametrize("principal, operation, allowed, scope", [
    (ANONYMOUS, "Query.actionPlan", True, "any"),
    (ANONYMOUS, "Query.pools", True, "any"),
    (ANONYMOUS, "Query.applications", False, None),
    (ANONYMOUS, "grants.health", False, None),
    (who("grant_officer", "ministry"), "Mutation.awardGrantApplication", True, "any"),
    (who("grant_officer", "cmm"), "Mutation.awardGrantApplication", False, None),  # role held by the ministry only
    (who("grant_officer"), "Query.applications", False, None),
    (who("applicant", NGO), "Query.applications", True, "own_organisation"),
    (who("applicant", NGO), "Mutation.awardGrantApplication", False, None),
    (who("applicant", NGO), "Query.assessmentNotes", False, None),
    (who("applicant"), "Query.applications", False, None),  # own_organisation without an organisation
    (who("outreach_worker", "cmm"), "Query.triageQueue", True, "any"),  # CMM: nationwide
    (who("outreach_worker", "provest"), "Query.triageQueue", True, "own_region"),
    (who("outreach_worker", "provest", "hovedstaden"), "Query.triageQueue", False, None),  # not its region
    (who("outreach_worker", "police"), "Query.triageQueue", False, None),
    (who("evaluator", "some-institute"), "Query.evaluation", True, "any"),
    (who("evaluator", "some-institute"), "Query.applications", False, None),
    (who("partner_agency", "police"), "Query.triageQueue", False, None),
    (who("dpo", "ministry"), "Query.accessLogForSubject", True, "any"),
    (who("operator"), "Mutation.publishAdRuleset", True, "any"),
    (who("gateway"), "grants.health", True, "any"),
    (who("gateway"), "Query.applications", False, None),
    (who("ingest_connector"), "ad_triage.import_batch", True, "any"),
    (who("superuser"), "Query.pools", False, None),  # a role the policy does not know
    (who("grant_officer", "ministry"), "Query.noSuchField", False, None),  # deny by default
])
def test_decisions_follow_the_file(principal, operation, allowed, scope):
    decision = policy().decide(principal, operation)
    assert (decision.allowed, decision.scope) == (allowed, scope)


def test_a_scoped_decision_names_what_the_service_restricts_to():
    assert policy().decide(who("applicant", NGO), "grants.application").organisation == NGO
    assert policy().decide(who("outreach_worker", "provest"), "ad_triage.queue").region == "sjaelland"


MINIMAL = '''version = 1
[roles.anonymous]
kind = "anonymous"
description = "no token"
[roles.officer]
kind = "person"
description = "x"
'''


@pytest.mark.parametrize("extra, complaint", [
    ('[operations."Query.x"]\nallow = { nobody = "any" }\n', "unknown role"),
    ('[operations."Query.x"]\nallow = { officer = "everything" }\n', "unknown scope"),
    ('[operations."Query.x"]\n', "needs allow"),
    ('[operations."query x"]\npublic = true\n', "expected Query"),
    ('[operations."Query.x"]\npublic = true\nallow = { officer = "any" }\n', "public operations name no roles"),
    ('[operations."Query.x"]\nallow = { officer = "any" }\ncalls = ["svc.m"]\n', "no RPC policy entry"),
    ('[operations."Query.x"]\nallow = { officer = "any" }\ncalls = ["svc.m"]\n'
     '[operations."svc.m"]\nallow = { officer = "own_organisation" }\n', "scopes it own_organisation"),
    ('[operations."Query.x"]\nallow = { officer = "any" }\nwho = 1\n', "unknown keys"),
    ('[roles.officer2]\nkind = "person"\ndescription = "x"\norganisations = ["nowhere"]\n', "unknown organisations"),
])
def test_a_malformed_policy_fails_at_load(extra, complaint):
    with pytest.raises(PolicyError, match=complaint):
        parse(MINIMAL + extra)


def test_an_operation_without_an_entry_or_an_entry_without_an_operation_fails_the_start():
    with pytest.raises(PolicyError, match="no policy entry for grants.new_method"):
        policy().check_service("grants", rpc_methods("grants") | {"new_method"})
    with pytest.raises(PolicyError, match="unknown operations grants.pools"):
        policy().check_service("grants", rpc_methods("grants") - {"pools"})


# -- the service side: the Command entrypoint ------------------------------------------------------------------------
@pytest.fixture
def entrypoint(monkeypatch):
    spawned, answered = [], []
    entry = Command(expected_exceptions=CommandRejected)
    entry.method_name = "register_organisation"
    entry.container = SimpleNamespace(service_name="grants")
    entry.configure(KEY, policy())

    def spawn(self, body, message):  # what nameko's handle_message would hand to the worker
        spawned.append(self.unpack_message_headers(message))
    monkeypatch.setattr(Rpc, "handle_message", spawn)
    monkeypatch.setattr(entry, "handle_result",
                        lambda message, worker_ctx, result, exc_info: answered.append(exc_info[1]))
    return entry, spawned, answered


def message(**headers):
    return SimpleNamespace(headers={f"nameko.{k}": v for k, v in headers.items()})


def sealed(principal, key=KEY, expires_in=60.0):
    return seal(principal, key, time.time() + expires_in)


OFFICER = who("grant_officer", "ministry")


# headers are made when the test runs, not when it is collected: a sealed principal expires (here after 60 s)
@pytest.mark.parametrize("headers, code", [
    (lambda: {}, "unauthenticated"),
    (lambda: {HEADER: "v1.e30.AAAA"}, "unauthenticated"),  # malformed
    (lambda: {HEADER: sealed(OFFICER, key=b"x" * 32)}, "unauthenticated"),  # forged: another key
    (lambda: {HEADER: sealed(OFFICER, expires_in=-60)}, "unauthenticated"),  # expired
    (lambda: {HEADER: sealed(ANONYMOUS)}, "unauthenticated"),  # anonymous may not register organisations
    (lambda: {HEADER: sealed(who("applicant", NGO))}, "forbidden"),
    (lambda: {HEADER: sealed(who("grant_officer", "cmm"))}, "forbidden"),
    (lambda: {CALLER_KEY: "grant_officer"}, "unauthenticated"),  # a header cannot stand in for the checked caller
])
def test_a_request_without_an_allowed_principal_never_reaches_a_worker(entrypoint, headers, code):
    entry, spawned, answered = entrypoint
    entry.handle_message({"args": [], "kwargs": {}}, message(**headers()))
    assert spawned == []
    assert isinstance(answered[0], CommandRejected) and answered[0].code == code
    assert "v1." not in answered[0].message  # the refusal never repeats the token


def test_a_tampered_principal_is_refused(entrypoint):
    entry, spawned, answered = entrypoint
    version, payload, mac = sealed(who("applicant", NGO)).split(".")
    forged = sealed(OFFICER).split(".")[1]
    entry.handle_message({"args": [], "kwargs": {}}, message(**{HEADER: f"{version}.{forged}.{mac}"}))
    assert spawned == [] and answered[0].code == "unauthenticated"


def test_an_allowed_principal_reaches_the_worker_with_its_decision(entrypoint):
    entry, spawned, answered = entrypoint
    entry.handle_message({"args": [], "kwargs": {}}, message(**{HEADER: sealed(OFFICER), CALLER_KEY: "forged"}))
    assert answered == []
    caller = spawned[0][CALLER_KEY]
    assert isinstance(caller, CallerInfo) and caller.principal == OFFICER
    assert caller.operation == "grants.register_organisation" and caller.decision.scope == "any"
    assert caller.organisation_scope is None and caller.region_scope is None


def test_an_applicant_worker_is_scoped_to_its_organisation(entrypoint):
    entry, spawned, _ = entrypoint
    entry.method_name = "applications"
    entry.handle_message({"args": [], "kwargs": {}}, message(**{HEADER: sealed(who("applicant", NGO))}))
    assert spawned[0][CALLER_KEY].organisation_scope == NGO
