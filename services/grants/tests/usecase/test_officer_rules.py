"""The rules a grant officer expects (issue 11): organisations are registered once and changed by version with
history; awards above the request need a reason; disbursements are dated sensibly and only on payable grants;
withdrawal shows on the grant; each command answers the object it changed; the ledger audit is reachable."""
import pytest

from services.grants.commands.organisations import OrganisationCommands
from services.grants.domain.budget import DISBURSEMENT_HORIZON_DAYS
from services.grants.tests.usecase.conftest import CLOCK, NGO, OFFICER, UNIVERSITY, draft_arguments, outbox, snapshot


def refused(command, **arguments) -> str:
    with pytest.raises(Exception) as raised:
        command(**arguments)
    return raised.value.code


@pytest.fixture
def organisations(store, plan):
    return OrganisationCommands(store, plan, CLOCK)


# -- organisations -------------------------------------------------------------------------------------------------
def test_registering_an_existing_cvr_is_refused_and_changes_nothing(store, organisations):
    before = snapshot(store)
    assert refused(organisations.register, org_id=UNIVERSITY, name="Someone else", roles=["applicant"],
                   request_id="register-again-1") == "organisation_exists"
    assert snapshot(store) == before
    assert store.organisation(UNIVERSITY).name == "University"


def test_a_change_is_versioned_and_keeps_who_when_and_what(store, organisations, queries):
    changed = organisations.change(org_id=NGO, version=1, name="Outreach NGO ApS", roles=["applicant", "funder"],
                                   actor=OFFICER)
    assert changed["version"] == 2 and changed["name"] == "Outreach NGO ApS"
    assert changed["roles"] == ["applicant", "funder"]
    last = changed["history"][-1]
    assert last["version"] == 2 and last["actor"] == OFFICER and last["at"] == CLOCK().isoformat()
    assert {c["field"]: (c["before"], c["after"]) for c in last["changes"]} == {
        "name": ("Outreach NGO", "Outreach NGO ApS"), "roles": ("applicant", "applicant, funder")}
    assert queries.organisation(NGO)["version"] == 2
    assert refused(organisations.change, org_id=NGO, version=1, name="Stale", actor=OFFICER) == "stale_version"
    assert refused(organisations.change, org_id="DK-CVR-12469136", version=1, name="X", actor=OFFICER) == \
        "unknown_organisation"


def test_a_role_an_application_in_progress_depends_on_cannot_be_removed(store, organisations, applications):
    app_id = applications.draft(**draft_arguments())["id"]
    before = snapshot(store)
    with pytest.raises(Exception) as raised:
        organisations.change(org_id=UNIVERSITY, version=1, roles=["applicant"], actor=OFFICER)
    assert raised.value.code == "role_in_use" and app_id in str(raised.value)
    assert "knowledge_institution" in str(raised.value)
    assert refused(organisations.change, org_id=NGO, version=1, roles=["funder"], actor=OFFICER) == "role_in_use"
    assert snapshot(store) == before
    # once the application is no longer in progress the role may go
    applications.move("withdraw", application_id=app_id, actor=OFFICER, reason="applicant pulled out")
    assert organisations.change(org_id=UNIVERSITY, version=1, roles=["applicant"], actor=OFFICER)["roles"] == \
        ["applicant"]


# -- awards --------------------------------------------------------------------------------------------------------
def test_an_award_above_the_request_needs_a_reason_which_is_kept_encrypted(store, applications, in_assessment,
                                                                          queries):
    before = snapshot(store)
    assert refused(applications.award, application_id=in_assessment, amount_ore=40_000_001,
                   award_date="2016-04-01", actor=OFFICER) == "award_above_requested"
    assert snapshot(store) == before
    awarded = applications.award(application_id=in_assessment, amount_ore=45_000_000, award_date="2016-04-01",
                                 actor=OFFICER, reason="Extra translation costs agreed at the hearing")
    assert (awarded["state"], awarded["requested_ore"], awarded["awarded_ore"]) == ("awarded", 40_000_000, 45_000_000)
    stored = store.db.applications.find_one({"_id": in_assessment})
    reason = stored["history"][-1]["reason"]
    assert reason.startswith("enc2:") and "translation" not in str(stored)
    assert store.load_application(in_assessment)[0].history[-1].reason == \
        "Extra translation costs agreed at the hearing"
    assert all("translation" not in str(row) for row in outbox(store))
    listed = queries.applications()[0]
    assert (listed["requested_ore"], listed["awarded_ore"]) == (40_000_000, 45_000_000)


def test_an_award_at_or_below_the_request_needs_no_reason(applications, in_assessment):
    assert applications.award(application_id=in_assessment, amount_ore=30_000_000, award_date="2016-04-01",
                              actor=OFFICER)["awarded_ore"] == 30_000_000


# -- disbursements -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("paid_on", ["1990-01-01", "2016-03-31", "2019-01-01"])
def test_a_disbursement_outside_award_to_pool_end_is_refused(store, ledger, awarded, paid_on):
    before = snapshot(store)
    assert refused(ledger.disburse, grant_id=awarded, amount_ore=1_000, paid_on=paid_on, actor=OFFICER) == \
        "disbursement_date_not_allowed"
    assert snapshot(store) == before


def test_a_disbursement_beyond_the_horizon_is_refused(store, plan, awarded):
    from datetime import timedelta
    from services.grants.commands.ledger import LedgerCommands
    from services.grants.domain.events import fixed_clock
    early = LedgerCommands(store, plan, fixed_clock(CLOCK() - timedelta(days=DISBURSEMENT_HORIZON_DAYS)))
    assert refused(early.disburse, grant_id=awarded, amount_ore=1_000, paid_on="2016-04-02", actor=OFFICER) == \
        "disbursement_date_not_allowed"


def test_a_disbursement_answers_the_grant_with_its_balance(ledger, awarded):
    grant = ledger.disburse(grant_id=awarded, amount_ore=10_000_000, paid_on="2016-04-01", actor=OFFICER)
    assert grant["id"] == awarded and grant["state"] == "awarded"
    assert grant["balance"] == {"committed_ore": 40_000_000, "disbursed_ore": 10_000_000,
                                "undisbursed_ore": 30_000_000, "withdrawn": False, "award_date": "2016-04-01"}


def test_a_closed_grant_is_not_paid(store, applications, ledger, awarded):
    applications.move("activate", application_id=awarded, actor=OFFICER)
    applications.move("close", application_id=awarded, actor=OFFICER)
    before = snapshot(store)
    assert refused(ledger.disburse, grant_id=awarded, amount_ore=1_000, paid_on="2016-05-01", actor=OFFICER) == \
        "grant_not_payable"
    assert snapshot(store) == before


# -- withdrawal and reallocation -----------------------------------------------------------------------------------
def test_withdrawal_makes_the_grant_withdrawn_and_says_so(store, ledger, queries, awarded):
    ledger.disburse(grant_id=awarded, amount_ore=10_000_000, paid_on="2016-04-01", actor=OFFICER)
    grant = ledger.withdraw_commitment(grant_id=awarded, actor=OFFICER, reason="Project abandoned")
    assert grant["state"] == "withdrawn" and grant["application"]["state"] == "withdrawn"
    assert grant["balance"]["withdrawn"] is True and grant["balance"]["committed_ore"] == 10_000_000
    assert queries.grant(awarded)["state"] == "withdrawn"
    assert [e["data"]["from"] for e in outbox(store, "grants.application.withdrawn")] == ["awarded"]
    assert "Project abandoned" not in str(store.db.applications.find_one({"_id": awarded}))
    assert refused(ledger.disburse, grant_id=awarded, amount_ore=1, paid_on="2016-05-01", actor=OFFICER) == \
        "commitment_withdrawn"


def test_reallocation_answers_the_grant_with_its_new_commitment(ledger, awarded):
    grant = ledger.reallocate(from_grant_id=awarded, amount_ore=5_000_000, actor=OFFICER, reason="Smaller scope")
    assert grant["id"] == awarded and grant["balance"]["committed_ore"] == 35_000_000


# -- answers -------------------------------------------------------------------------------------------------------
def test_grant_answers_only_for_grants(queries, in_assessment):
    assert queries.application(in_assessment) is not None
    assert queries.grant(in_assessment) is None


def test_note_counts_are_right_in_lists_and_single_answers(applications, queries, in_assessment):
    applications.add_assessment_note(application_id=in_assessment, text="Strong partner", actor=OFFICER)
    applications.add_assessment_note(application_id=in_assessment, text="Budget plausible", actor=OFFICER)
    assert queries.application(in_assessment)["note_count"] == 2
    assert [a["note_count"] for a in queries.applications()] == [2]


def test_the_ledger_audit_puts_stored_and_recomputed_side_by_side(store, ledger, queries, awarded):
    ledger.disburse(grant_id=awarded, amount_ore=1_000, paid_on="2016-04-01", actor=OFFICER)
    audit = queries.ledger_audit()
    assert audit["agrees"] is True
    digital = next(p for p in audit["pools"] if p["code"] == "digital-outreach-pool")
    assert digital["stored"] == digital["recomputed"] and digital["difference"]["committed_ore"] == 0
    store.db.pools.update_one({"_id": "digital-outreach-pool"}, {"$inc": {"committed": 7}})  # a corrupted figure
    audit = queries.ledger_audit()
    digital = next(p for p in audit["pools"] if p["code"] == "digital-outreach-pool")
    assert audit["agrees"] is False and digital["difference"]["committed_ore"] == 7
