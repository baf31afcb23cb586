"""A client's request id names one command: a retry answers as the first run did, with one effect; the same id
with other arguments is refused."""
import pytest

from services.grants.tests.usecase.conftest import OFFICER, draft_arguments, outbox, snapshot


def test_a_retried_draft_returns_the_first_answer_and_drafts_once(store, applications):
    first = applications.draft(**draft_arguments(), request_id="draft-req-0001")
    again = applications.draft(**draft_arguments(), request_id="draft-req-0001")
    assert again == first
    assert store.db.applications.count_documents({}) == 1
    assert len(outbox(store, "grants.application.drafted")) == 1


def test_a_retried_disbursement_pays_once(store, ledger, awarded):
    arguments = dict(grant_id=awarded, amount_ore=10_000_000, paid_on="2016-06-01", actor=OFFICER,
                     request_id="pay-req-0001")
    assert ledger.disburse(**arguments) == ledger.disburse(**arguments)
    assert store.db.grant_balances.find_one({"_id": awarded})["disbursed"] == 10_000_000
    assert len(outbox(store, "grants.disbursement.made")) == 1


def test_the_same_request_id_with_other_arguments_is_refused(store, applications):
    applications.draft(**draft_arguments(), request_id="draft-req-0002")
    before = snapshot(store)
    with pytest.raises(Exception) as raised:
        applications.draft(**draft_arguments(title="Another project"), request_id="draft-req-0002")
    assert (raised.value.code, raised.value.field) == ("request_id_reused", "request_id")
    assert snapshot(store) == before


def test_a_malformed_request_id_is_refused_before_anything_runs(store, applications):
    before = snapshot(store)
    with pytest.raises(Exception) as raised:
        applications.draft(**draft_arguments(), request_id="short")
    assert (raised.value.code, raised.value.field) == ("invalid_input", "request_id")
    assert snapshot(store) == before


def test_an_award_request_id_reused_for_another_application_is_refused(store, applications, in_assessment):
    other = applications.draft(**draft_arguments(title="Second project"))["id"]
    applications.submit(application_id=other, actor=OFFICER)
    applications.move("start_assessment", application_id=other, actor=OFFICER)
    applications.award(application_id=in_assessment, amount_ore=1_000, award_date="2016-04-01", actor=OFFICER,
                       request_id="award-req-0001")
    before = snapshot(store)
    with pytest.raises(Exception) as raised:
        applications.award(application_id=other, amount_ore=1_000, award_date="2016-04-01", actor=OFFICER,
                           request_id="award-req-0001")
    assert raised.value.code == "request_id_reused"
    assert snapshot(store) == before and store.db.applications.find_one({"_id": other})["state"] == "in_assessment"
