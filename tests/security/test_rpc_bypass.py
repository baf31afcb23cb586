"""A process that reaches RabbitMQ directly cannot bypass the gateway: every service checks the sealed principal of
each RPC request (kit/nameko_kit.py) against the access policy before it reads or changes anything.

Direct RPC without a principal, with a forged one (another key), a tampered one, an expired one, a header posing as
the checked caller, an allowed principal whose role may not call the method, and an allowed one; and the
applicant's organisation scope applied by the service itself.
"""
from __future__ import annotations

import json
import time

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy
from pymongo import MongoClient

from kit.principal import HEADER
from tests.support.platform import running
from tests.support.rpc import context, rpc_as, sealed

pytestmark = pytest.mark.stack

NGO, OTHER, UNIVERSITY = "DK-CVR-10000009", "DK-CVR-13703701", "DK-CVR-11234569"


@pytest.fixture(scope="module")
def platform(infra, otlp):
    with running(infra, otlp, "byp", {"grants": {}, "evaluation": {},
                                      "ad_triage": {"AD_TRIAGE_RULESET_VERSION": "1.0.0"}}, gateway=False) as platform:
        yield platform


@pytest.fixture(scope="module")
def organisations(platform):
    return MongoClient(platform.env["MONGO_URI"])[platform.settings("grants").database].organisations


def proxy(platform, context_data=None):
    return ClusterRpcProxy({"AMQP_URI": platform.env["AMQP_URI"], "serializer": "json"}, timeout=20,
                           context_data=context_data)


def refusal(call) -> str:
    with pytest.raises(RemoteError) as raised:
        call()
    assert raised.value.exc_type == "CommandRejected"
    body = json.loads(raised.value.value)
    assert "v1." not in body["message"]  # never repeats a token
    return body["code"]


def register(rpc, org_id=OTHER):
    return rpc.grants.register_organisation(org_id=org_id, name="Pirate", roles=["applicant"],
                                            request_id=f"bypass-{org_id}")


@pytest.mark.parametrize("service", ["grants", "evaluation", "ad_triage"])
def test_without_a_principal_every_service_refuses_even_its_health(platform, service):
    with proxy(platform) as rpc:
        assert refusal(lambda: getattr(rpc, service).health()) == "unauthenticated"


def test_without_a_principal_nothing_is_read_or_written(platform, organisations):
    with proxy(platform) as rpc:
        assert refusal(lambda: rpc.grants.pools()) == "unauthenticated"  # even public data needs a principal
        assert refusal(lambda: register(rpc)) == "unauthenticated"
    assert organisations.count_documents({"_id": OTHER}) == 0


def test_a_forged_principal_is_refused(platform, organisations):
    forged = {HEADER: sealed(platform, "grant_officer", "ministry", key=b"not-the-platform-key-0123456789ab")}
    with proxy(platform, forged) as rpc:
        assert refusal(lambda: register(rpc)) == "unauthenticated"
    assert organisations.count_documents({"_id": OTHER}) == 0


def test_a_tampered_principal_is_refused(platform, organisations):
    version, _, mac = sealed(platform, "applicant", NGO).split(".")
    promoted = sealed(platform, "grant_officer", "ministry").split(".")[1]
    with proxy(platform, {HEADER: f"{version}.{promoted}.{mac}"}) as rpc:
        assert refusal(lambda: register(rpc)) == "unauthenticated"
    assert organisations.count_documents({"_id": OTHER}) == 0


def test_an_expired_principal_is_refused(platform, organisations):
    stale = {HEADER: sealed(platform, "grant_officer", "ministry", expires_at=time.time() - 60)}
    with proxy(platform, stale) as rpc:
        assert refusal(lambda: register(rpc)) == "unauthenticated"
    assert organisations.count_documents({"_id": OTHER}) == 0


def test_a_header_posing_as_the_checked_caller_is_ignored(platform, organisations):
    with proxy(platform, {"caller": "grant_officer"}) as rpc:
        assert refusal(lambda: register(rpc)) == "unauthenticated"
    assert organisations.count_documents({"_id": OTHER}) == 0


def test_a_valid_principal_gets_only_what_its_role_may(platform, organisations):
    with rpc_as(platform, "applicant", NGO) as rpc:
        assert refusal(lambda: register(rpc)) == "forbidden"
        assert refusal(lambda: rpc.ad_triage.rescore(actor="a1")) == "forbidden"
    with rpc_as(platform, "grant_officer", "cmm") as rpc:  # the role is the ministry's: another organisation's token
        assert refusal(lambda: register(rpc)) == "forbidden"
    with proxy(platform, context(platform, "anonymous")) as rpc:
        assert len(rpc.grants.pools()) == 3  # public reference data
        assert refusal(lambda: rpc.grants.applications()) == "unauthenticated"
    assert organisations.count_documents({"_id": OTHER}) == 0


def test_an_allowed_principal_is_served_and_an_applicant_only_sees_its_own(platform, organisations):
    with rpc_as(platform, "grant_officer", "ministry") as officer:
        for org, roles in ((NGO, ["applicant"]), (OTHER, ["applicant"]), (UNIVERSITY, ["knowledge_institution"])):
            officer.grants.register_organisation(org_id=org, name="Org", roles=roles)
        app = officer.grants.draft_application(pool_code="digital-outreach-pool", applicant_id=NGO,
                                               knowledge_partner_id=UNIVERSITY, title="Outreach", description="x",
                                               requested_ore=1000, start="2016-03-01", end="2017-12-31",
                                               actor="officer-1")["id"]
    with rpc_as(platform, "applicant", NGO) as own, rpc_as(platform, "applicant", OTHER) as other:
        assert own.grants.application(app)["applicant_id"] == NGO
        assert other.grants.application(app) is None
        assert other.grants.applications(applicant_id=NGO) == []
        assert [o["id"] for o in other.grants.organisations()] == [OTHER]
        assert refusal(lambda: other.grants.submit_application(application_id=app, actor="x1")) == \
            "unknown_application"
        assert own.grants.submit_application(application_id=app, actor="x1")["state"] == "submitted"
    with rpc_as(platform, "operator") as operator:
        assert operator.grants.health()["status"] == "ok"
