"""Bad input at the GraphQL edge and at RPC: a specific error, and nothing written anywhere."""
import json

import pytest
from nameko.exceptions import RemoteError
from pymongo import MongoClient

from services.grants.tests.service.helpers import NGO, OFFICER, UNIVERSITY, award, draft, register, rid, step, \
    to_assessment
from tests.support.graphql import error_code, ok
from tests.support.rpc import rpc_as

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def db(platform):
    return MongoClient(platform.env["MONGO_URI"])[platform.settings("grants").database]


def snapshot(db) -> dict:
    return {name: list(db[name].find({}, {"_id": 1, "version": 1, "state": 1, "committed": 1}).sort("_id", 1))
            for name in ("applications", "outbox", "ledger_events", "pools", "grant_balances", "organisations")}


@pytest.fixture(scope="module")
def assessed(platform):
    register(platform, UNIVERSITY, "University", "KNOWLEDGE_INSTITUTION")
    register(platform, NGO, "NGO", "APPLICANT")
    app = ok(draft(platform, "digital-outreach-pool", NGO, UNIVERSITY, 10_000_000), "draftGrantApplication")
    to_assessment(platform, app["id"])
    return app["id"]


@pytest.mark.parametrize("name, call, code", [
    ("invalid CVR", lambda p, a: p.graphql('mutation { registerOrganisation(orgId: "DK-CVR-20453045", name: "X", '
                                            f'roles: [APPLICANT], {rid()}) {{ id }} }}', headers=OFFICER),
     "invalid_cvr"),
    ("award above remaining", lambda p, a: step(p, "awardGrantApplication", f'applicationId: "{a}", '
                                                 'amountOre: 350000001, awardDate: "2016-04-01", reason: "all of it"'),
     "budget_exceeded"),
    ("award above the request without a reason", lambda p, a: award(p, a, 10_000_001), "award_above_requested"),
    ("award outside the period", lambda p, a: award(p, a, 1_000, on="2019-01-02"), "outside_period"),
    ("negative amount", lambda p, a: award(p, a, -5), "invalid_amount"),
    ("unknown organisation", lambda p, a: draft(p, "digital-outreach-pool", "DK-CVR-12469136", UNIVERSITY, 100),
     "unknown_organisation"),
    ("period outside the pool", lambda p, a: draft(p, "digital-outreach-pool", NGO, UNIVERSITY, 100,
                                                   end="2019-03-01"), "outside_period"),
    ("missing knowledge institution", lambda p, a: draft(p, "forced-labour-pool", NGO, None, 100),
     "knowledge_institution_required"),
    ("transition not allowed", lambda p, a: step(p, "moveGrantApplication", f'applicationId: "{a}", move: CLOSE'),
     "transition_not_allowed"),
    ("initiative 4 is not a grant pool", lambda p, a: draft(p, "cmm-mid-term-evaluation", NGO, None, 100),
     "not_a_grant_pool"),
])
def test_graphql_rejects_with_a_specific_code_and_writes_nothing(platform, db, assessed, name, call, code):
    before = snapshot(db)
    assert error_code(call(platform, assessed)) == code, name
    assert snapshot(db) == before


def test_graphql_refuses_fractional_money_before_it_reaches_a_service(platform, db, assessed):
    before = snapshot(db)
    result = platform.graphql(f'mutation {{ awardGrantApplication(applicationId: "{assessed}", amountOre: 12.5, '
                              f'awardDate: "2016-05-01", {rid()}) {{ id }} }}', headers=OFFICER)
    assert "Ore must be an integer" in result["errors"][0]["message"]
    assert snapshot(db) == before


@pytest.mark.parametrize("kwargs, code", [
    ({"amount_ore": 1.5}, "float_amount"),
    ({"amount_ore": "1.005"}, "fractional_ore"),
    ({"amount_ore": True}, "invalid_amount"),
    ({"amount_ore": 100, "award_date": "first of May"}, "invalid_input"),
    ({"amount_ore": 100, "colour": "red"}, "invalid_arguments"),
])
def test_rpc_rejects_with_a_specific_code_and_writes_nothing(platform, db, assessed, kwargs, code):
    before = snapshot(db)
    arguments = {"application_id": assessed, "award_date": "2016-05-01", "actor": "officer-rpc", **kwargs}
    with rpc_as(platform, "grant_officer", "ministry") as rpc, pytest.raises(RemoteError) as raised:
        rpc.grants.award_application(**arguments)
    assert raised.value.exc_type == "CommandRejected"
    assert json.loads(raised.value.value)["code"] == code
    assert snapshot(db) == before
