"""A grant officer's work through GraphQL against the real stack, pool by pool, down to the money on Kafka."""
import json

import pytest
from pymongo import MongoClient

from services.grants.tests.giving360_schema import validator
from services.grants.tests.service.helpers import (NGO, OFFICER, PRO_VEST, UNIVERSITY, award, draft, pools, register,
                                                   rid, step, to_assessment)
from tests.support.graphql import error_code, ok
from tests.support.rpc import rpc_as
from tests.support.waiting import eventually

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def organisations(platform):
    register(platform, UNIVERSITY, "Knowledge institution", "KNOWLEDGE_INSTITUTION")
    register(platform, NGO, "Outreach NGO", "APPLICANT")
    register(platform, PRO_VEST, "Pro Vest", "APPLICANT")


def run_to_disbursement(platform, pool: str, applicant: str, partner: str | None, ore: int) -> str:
    app = ok(draft(platform, pool, applicant, partner, ore), "draftGrantApplication")
    to_assessment(platform, app["id"])
    ok(step(platform, "addAssessmentNote", f'applicationId: "{app["id"]}", text: "met the coordinator"'),
       "addAssessmentNote")
    assert ok(award(platform, app["id"], ore), "awardGrantApplication")["state"] == "awarded"
    ok(step(platform, "moveGrantApplication", f'applicationId: "{app["id"]}", move: ACTIVATE'), "moveGrantApplication")
    paid = ok(platform.graphql(f'mutation {{ disburseGrant(grantId: "{app["id"]}", amountOre: {ore // 2}, '
                               f'paidOn: "2016-06-01", {rid()}) {{ id state balance {{ disbursedOre }} }} }}',
                               headers=OFFICER), "disburseGrant")
    assert (paid["id"], paid["state"], paid["balance"]["disbursedOre"]) == (app["id"], "active", ore // 2)
    return app["id"]


def test_draft_to_disbursement_in_each_pool(platform, organisations):
    digital = run_to_disbursement(platform, "digital-outreach-pool", NGO, UNIVERSITY, 40_000_000)
    forced = run_to_disbursement(platform, "forced-labour-pool", NGO, UNIVERSITY, 60_000_000)

    # Pro Vest: no amount in the amendment, so nothing can be awarded before an officer enters it and the
    # Finance Committee's approval is recorded
    app = ok(draft(platform, "pro-vest-region-zealand", PRO_VEST, None, 150_000_000), "draftGrantApplication")
    to_assessment(platform, app["id"])
    assert error_code(award(platform, app["id"], 150_000_000)) == "budget_not_set"
    ok(platform.graphql('mutation { enterPoolBudget(poolCode: "pro-vest-region-zealand", amountOre: 300000000, '
                        f'{rid()}) {{ allocatedOre }} }}', headers=OFFICER), "enterPoolBudget")
    assert error_code(award(platform, app["id"], 150_000_000)) == "finance_committee_approval_required"
    approval = ok(platform.graphql('mutation { approveFinanceCommittee(poolCode: "pro-vest-region-zealand", '
                                   f'approvedOn: "2016-01-20", reference: "Akt 52", {rid()}) '
                                   '{ financeCommitteeApproval { reference amountOre } } }', headers=OFFICER),
                  "approveFinanceCommittee")
    assert approval["financeCommitteeApproval"] == {"reference": "Akt 52", "amountOre": 300_000_000}
    ok(award(platform, app["id"], 150_000_000), "awardGrantApplication")

    figures = pools(platform)
    assert figures["digital-outreach-pool"] == {"code": "digital-outreach-pool", "allocatedOre": 350_000_000,
                                                "committedOre": 40_000_000, "disbursedOre": 20_000_000,
                                                "remainingOre": 310_000_000, "grantCount": 1}
    assert figures["forced-labour-pool"]["committedOre"] == 60_000_000
    assert figures["pro-vest-region-zealand"]["remainingOre"] == 150_000_000

    grant = ok(platform.graphql(f'{{ grant(grantId: "{digital}") {{ balance {{ undisbursedOre }} '
                                f'obligations {{ kind due responsibleId }} }} }}'), "grant")
    assert grant["balance"]["undisbursedOre"] == 20_000_000
    assert grant["obligations"] == [{"kind": "outcome_documentation", "due": "2017-06-30",
                                     "responsibleId": UNIVERSITY}]  # the June 2017 mid-term review
    notes = ok(platform.graphql(f'{{ assessmentNotes(applicationId: "{forced}") {{ text }} }}'), "assessmentNotes")
    assert notes == [{"text": "met the coordinator"}]
    stored = MongoClient(platform.env["MONGO_URI"])[platform.settings("grants").database].applications.find_one(
        {"_id": forced})
    assert stored["assessment_notes"][0]["text"].startswith("enc2:")  # encrypted at rest, with its key id
    assert "coordinator" not in str(stored)


def test_reallocation_and_withdrawal_move_money_back(platform, organisations):
    first = run_to_disbursement(platform, "digital-outreach-pool", NGO, UNIVERSITY, 10_000_000)
    second = run_to_disbursement(platform, "digital-outreach-pool", NGO, UNIVERSITY, 10_000_000)
    before = pools(platform)["digital-outreach-pool"]
    moved = ok(platform.graphql(f'mutation {{ reallocateCommitment(fromGrantId: "{first}", toGrantId: "{second}", '
                                f'amountOre: 2000000, reason: "second grant needs more", {rid()}) '
                                f'{{ id balance {{ committedOre }} }} }}',
                                headers=OFFICER), "reallocateCommitment")
    assert moved == {"id": first, "balance": {"committedOre": 8_000_000}}
    assert pools(platform)["digital-outreach-pool"]["committedOre"] == before["committedOre"]  # within the pool
    withdrawn = ok(platform.graphql(f'mutation {{ withdrawCommitment(grantId: "{second}", reason: "grantee ended", '
                                    f'{rid()}) {{ id state balance {{ withdrawn }} }} }}', headers=OFFICER),
                   "withdrawCommitment")
    assert withdrawn == {"id": second, "state": "withdrawn", "balance": {"withdrawn": True}}
    released = pools(platform)["digital-outreach-pool"]
    db = MongoClient(platform.env["MONGO_URI"])[platform.settings("grants").database]
    assert "grantee ended" not in str(list(db.ledger_events.find()))  # reasons are encrypted at rest too
    # second had 12,000,000 committed, 5,000,000 paid: 7,000,000 returns to the pool
    assert released["committedOre"] == before["committedOre"] - 7_000_000
    assert released["grantCount"] == before["grantCount"] - 1


def test_balances_recompute_from_the_ledger_events(platform, organisations):
    with rpc_as(platform, "grant_officer", "ministry") as rpc:
        stored, recomputed = rpc.grants.pools(), rpc.grants.recomputed_pools()
    keys = ("code", "allocated_ore", "committed_ore", "disbursed_ore", "remaining_ore", "grant_count")
    assert [{k: p[k] for k in keys} for p in stored] == [{k: p[k] for k in keys} for p in recomputed]


def test_every_money_movement_reaches_kafka(platform, organisations):
    def ledger_types():
        types = [json.loads(r.value)["type"] for r in platform.read_topic("grants.ledger", expect=20, timeout=5)]
        needed = {"grants.pool.opened", "grants.award.committed", "grants.disbursement.made",
                  "grants.pool_budget.entered", "grants.finance_committee.approved",
                  "grants.commitment.reallocated", "grants.commitment.withdrawn"}
        assert needed <= set(types), set(types)
        return types
    types = eventually(ledger_types, 30, what="every kind of ledger event on grants.ledger")
    assert types.count("grants.pool.opened") == 3
    records = platform.read_topic("grants.ledger", expect=len(types))
    assert all(b"reason" not in r.value for r in records)  # free-text reasons stay in the service


def test_360giving_export_validates_and_csv_has_a_row_per_grant(platform, organisations):
    package = json.loads(ok(platform.graphql("{ grants360giving }"), "grants360giving"))
    errors = sorted(validator().iter_errors(package), key=str)
    assert not errors, [e.message for e in errors[:5]]
    assert len(package["grants"]) >= 4
    zealand = [g for g in package["grants"] if g.get("beneficiaryLocation")]
    assert zealand and zealand[0]["beneficiaryLocation"][0]["name"] == "Region Zealand"
    rows = ok(platform.graphql("{ grantsCsv }"), "grantsCsv").strip().splitlines()
    assert len(rows) == len(package["grants"]) + 1 and rows[0].startswith("Identifier,")
    assert "met the coordinator" not in json.dumps(package)  # assessment notes are never published


def test_overdue_obligation_raises_an_event_once(platform, organisations):
    with rpc_as(platform, "grant_officer", "ministry") as rpc:
        assert rpc.grants.report_overdue_obligations(today="2017-06-30")["reported"] == 0  # due day: on time
        reported = rpc.grants.report_overdue_obligations(today="2017-07-01")["reported"]
        assert reported >= 1
        assert rpc.grants.report_overdue_obligations(today="2017-07-02")["reported"] == 0
    records = eventually(lambda: platform.read_topic("grants.obligations", expect=reported, timeout=5), 30,
                         what="overdue events on grants.obligations")
    assert [json.loads(r.value)["type"] for r in records] == ["grants.obligation.overdue"] * reported


def test_attribution_answers_only_for_active_grants(platform, organisations):
    active = run_to_disbursement(platform, "forced-labour-pool", NGO, UNIVERSITY, 5_000_000)
    found = ok(platform.graphql(f'{{ grantAttribution(grantId: "{active}") {{ initiativeNumber fundCode }} }}'),
               "grantAttribution")
    assert found == {"initiativeNumber": 2, "fundCode": "forced-labour-pool"}
    app = ok(draft(platform, "forced-labour-pool", NGO, UNIVERSITY, 5_000_000), "draftGrantApplication")
    assert error_code(platform.graphql(f'{{ grantAttribution(grantId: "{app["id"]}") {{ fundCode }} }}')) == \
        "not_active"
    assert error_code(platform.graphql('{ grantAttribution(grantId: "app-nope") { fundCode } }')) == "unknown_grant"
