"""Issue 11 tried through GraphQL as a grant officer would: each surprise answered with a rule and a code."""
import pytest
from pymongo import MongoClient

from services.grants.tests.service.helpers import (NGO, OFFICER, UNIVERSITY, award, draft, register, rid, step,
                                                   to_assessment)
from tests.support.graphql import error_code, ok

pytestmark = pytest.mark.stack

POOL = "digital-outreach-pool"
GRANT = "id state balance { committedOre disbursedOre undisbursedOre withdrawn awardDate }"


@pytest.fixture(scope="module")
def db(platform):
    return MongoClient(platform.env["MONGO_URI"])[platform.settings("grants").database]


@pytest.fixture(scope="module")
def organisations(platform):
    register(platform, UNIVERSITY, "University", "KNOWLEDGE_INSTITUTION")
    register(platform, NGO, "NGO", "APPLICANT")


def assessed(platform, ore: int = 1_000_000) -> str:
    app = ok(draft(platform, POOL, NGO, UNIVERSITY, ore), "draftGrantApplication")
    to_assessment(platform, app["id"])
    return app["id"]


def awarded(platform, ore: int = 1_000_000) -> str:
    app_id = assessed(platform, ore)
    ok(award(platform, app_id, ore), "awardGrantApplication")
    return app_id


def mutate(platform, field: str, args: str, selection: str, variables=None) -> dict:
    decl = ""
    if variables:
        decl = "(" + ", ".join(f"${k}: {t}" for k, (t, _) in variables.items()) + ")"
        variables = {k: v for k, (_, v) in variables.items()}
    return platform.graphql(f"mutation{decl} {{ {field}({args}, {rid()}) {{ {selection} }} }}", variables,
                            headers=OFFICER)


def disburse(platform, grant_id: str, paid_on: str, amount: str = "amountOre: 1000") -> dict:
    return mutate(platform, "disburseGrant", f'grantId: "{grant_id}", {amount}, paidOn: "{paid_on}"', GRANT)


# -- organisations -------------------------------------------------------------------------------------------------
def test_an_existing_cvr_is_not_registered_again_and_its_roles_stay(platform, db, organisations):
    again = platform.graphql(f'mutation {{ registerOrganisation(orgId: "{UNIVERSITY}", name: "Someone", '
                             f'roles: [APPLICANT], {rid()}) {{ id }} }}', headers=OFFICER)
    assert error_code(again) == "organisation_exists"
    assert db.organisations.find_one({"_id": UNIVERSITY})["roles"] == ["knowledge_institution"]


def test_change_organisation_is_versioned_with_history_and_guards_roles_in_use(platform, organisations):
    assessed(platform)  # NGO applies with UNIVERSITY as knowledge partner
    current = ok(platform.graphql(f'{{ organisation(orgId: "{UNIVERSITY}") {{ version }} }}', headers=OFFICER),
                 "organisation")["version"]
    in_use = mutate(platform, "changeOrganisation", f'orgId: "{UNIVERSITY}", version: {current}, roles: [APPLICANT]',
                    "id")
    assert error_code(in_use) == "role_in_use"
    assert "knowledge_institution" in in_use["errors"][0]["message"]
    changed = ok(mutate(platform, "changeOrganisation", f'orgId: "{UNIVERSITY}", version: {current}, '
                        f'name: "University of Copenhagen"',
                        "name version history { version actor at changes { field before after } }"),
                 "changeOrganisation")
    assert changed["name"] == "University of Copenhagen" and changed["version"] == current + 1
    last = changed["history"][-1]
    assert last["actor"] == "officer-test" and last["at"]
    assert last["changes"] == [{"field": "name", "before": "University", "after": "University of Copenhagen"}]
    stale = mutate(platform, "changeOrganisation", f'orgId: "{UNIVERSITY}", version: {current}, name: "Old"', "id")
    assert error_code(stale) == "stale_version"


# -- awards --------------------------------------------------------------------------------------------------------
def test_an_award_above_the_request_needs_a_reason(platform, db, organisations):
    app_id = assessed(platform, 1_000_000)
    assert error_code(award(platform, app_id, 1_000_001)) == "award_above_requested"
    done = ok(mutate(platform, "awardGrantApplication", f'applicationId: "{app_id}", amountOre: 1200000, '
                     f'awardDate: "2016-04-01", reason: "Interpreter costs agreed at the hearing"',
                     "state requestedOre awardedOre requestedDkk awardedDkk"), "awardGrantApplication")
    assert done == {"state": "awarded", "requestedOre": 1_000_000, "awardedOre": 1_200_000,
                    "requestedDkk": "10000.00", "awardedDkk": "12000.00"}
    stored = db.applications.find_one({"_id": app_id})
    assert stored["history"][-1]["reason"].startswith("enc2:") and "Interpreter" not in str(stored)
    listed = ok(platform.graphql(f'{{ application(applicationId: "{app_id}") {{ awardedOre }} }}', headers=OFFICER),
                "application")
    assert listed == {"awardedOre": 1_200_000}


# -- disbursements -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("paid_on", ["1990-01-01", "2016-03-31", "2019-01-01"])
def test_a_disbursement_outside_award_to_pool_end_is_refused(platform, organisations, paid_on):
    grant = awarded(platform)
    assert error_code(disburse(platform, grant, paid_on)) == "disbursement_date_not_allowed"


def test_a_disbursement_answers_the_grant_with_its_balance(platform, organisations):
    grant = awarded(platform)
    paid = ok(disburse(platform, grant, "2016-04-01", 'amountDkk: "2500.50"'), "disburseGrant")
    assert paid == {"id": grant, "state": "awarded", "balance": {
        "committedOre": 1_000_000, "disbursedOre": 250_050, "undisbursedOre": 749_950, "withdrawn": False,
        "awardDate": "2016-04-01"}}


def test_a_closed_grant_is_not_paid(platform, organisations):
    grant = awarded(platform)
    for move in ("ACTIVATE", "CLOSE"):
        ok(step(platform, "moveGrantApplication", f'applicationId: "{grant}", move: {move}'), "moveGrantApplication")
    assert error_code(disburse(platform, grant, "2016-05-01")) == "grant_not_payable"


def test_withdrawal_shows_on_the_grant(platform, organisations):
    grant = awarded(platform)
    withdrawn = ok(mutate(platform, "withdrawCommitment", f'grantId: "{grant}", reason: "grantee ended"', GRANT),
                   "withdrawCommitment")
    assert withdrawn["state"] == "withdrawn" and withdrawn["balance"]["withdrawn"] is True
    asked = ok(platform.graphql(f'{{ grant(grantId: "{grant}") {{ state application {{ state }} }} }}',
                                headers=OFFICER), "grant")
    assert asked == {"state": "withdrawn", "application": {"state": "withdrawn"}}


# -- money at the edge ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("type_, name, value, code", [
    ("Ore", "amountOre", 1.5, "float_amount"),
    ("Ore", "amountOre", "1.250", "thousands_separator"),
    ("Ore", "amountOre", "1250", "invalid_amount"),  # a digit string is not read as øre
    ("Ore", "amountOre", 10 ** 30, "amount_too_large"),
    ("Dkk", "amountDkk", 12.5, "float_amount"),
    ("Dkk", "amountDkk", "1,250.00", "thousands_separator"),
    ("Dkk", "amountDkk", "1.250,50", "thousands_separator"),
    ("Dkk", "amountDkk", "12.505", "fractional_ore"),
    ("Dkk", "amountDkk", "90071992547409.92", "amount_too_large"),
])
def test_money_at_the_edge_is_refused_with_a_code(platform, organisations, type_, name, value, code):
    result = mutate(platform, "enterPoolBudget", f'poolCode: "pro-vest-region-zealand", {name}: $a', "code",
                    {"a": (type_, value)})
    assert error_code(result) == code, result


@pytest.mark.parametrize("literal, code", [("1.5", "float_amount"), ('"1.250"', "thousands_separator"),
                                           ("1000000000000000000000000000000", "amount_too_large")])
def test_money_literals_are_refused_with_a_code(platform, organisations, literal, code):
    result = mutate(platform, "enterPoolBudget", f'poolCode: "pro-vest-region-zealand", amountOre: {literal}', "code")
    assert error_code(result) == code, result


def test_the_maximum_is_stated_in_the_schema():
    from gateway.schema import build_schema
    field = build_schema().graphql_schema.mutation_type.fields["disburseGrant"]
    assert "9007199254740991" in field.args["amountOre"].description
    assert "90071992547409.91" in field.args["amountDkk"].description


# -- answers -------------------------------------------------------------------------------------------------------
def test_grant_answers_only_for_grants_and_note_counts_are_right(platform, organisations):
    app_id = assessed(platform)
    ok(step(platform, "addAssessmentNote", f'applicationId: "{app_id}", text: "met the coordinator"'),
       "addAssessmentNote")
    assert ok(platform.graphql(f'{{ grant(grantId: "{app_id}") {{ id }} }}', headers=OFFICER), "grant") is None
    one = ok(platform.graphql(f'{{ application(applicationId: "{app_id}") {{ noteCount }} }}', headers=OFFICER),
             "application")
    listed = ok(platform.graphql("{ applications { id noteCount } }", headers=OFFICER), "applications")
    assert one["noteCount"] == 1 and {"id": app_id, "noteCount": 1} in listed


def test_a_grant_officer_runs_the_ledger_audit(platform, organisations):
    awarded(platform)
    audit = ok(platform.graphql("{ ledgerAudit { agrees pools { code agrees stored { committedOre } "
                                "recomputed { committedOre } difference { committedOre } } "
                                "grants { grantId agrees difference { committedOre disbursedOre } } } }",
                                headers=OFFICER), "ledgerAudit")
    assert audit["agrees"] is True and audit["grants"]
    digital = next(p for p in audit["pools"] if p["code"] == POOL)
    assert digital["stored"] == digital["recomputed"] and digital["difference"] == {"committedOre": 0}


def test_a_request_id_reused_for_another_application_is_refused(platform, organisations):
    first, second = assessed(platform), assessed(platform)
    request = '"award-reuse-0001-officer"'
    award_with = (lambda app_id: platform.graphql(
        f'mutation {{ awardGrantApplication(applicationId: "{app_id}", amountOre: 1000, awardDate: "2016-04-01", '
        f'requestId: {request}) {{ id state }} }}', headers=OFFICER))
    assert ok(award_with(first), "awardGrantApplication") == {"id": first, "state": "awarded"}
    assert error_code(award_with(second)) == "request_id_reused"
    assert ok(platform.graphql(f'{{ application(applicationId: "{second}") {{ state }} }}', headers=OFFICER),
              "application") == {"state": "in_assessment"}
