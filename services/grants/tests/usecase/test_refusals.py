"""A refused command writes nothing: no state, no ledger entry, no outbox row, no request record."""
import pytest

from services.grants.tests.usecase.conftest import OFFICER, snapshot


def refused(command, **arguments) -> str:
    with pytest.raises(Exception) as raised:
        command(**arguments)
    return raised.value.code


def test_an_award_over_the_remaining_budget_is_refused_and_writes_nothing(store, applications, in_assessment):
    before = snapshot(store)
    code = refused(applications.award, application_id=in_assessment, amount_ore=350_000_001,
                   award_date="2016-04-01", actor=OFFICER, request_id="award-too-much-1",
                   reason="the pool's whole budget and one øre")
    assert code == "budget_exceeded"
    assert snapshot(store) == before
    assert store.db.applications.find_one({"_id": in_assessment})["state"] == "in_assessment"


def test_a_disbursement_beyond_the_commitment_is_refused_and_writes_nothing(store, ledger, awarded):
    before = snapshot(store)
    code = refused(ledger.disburse, grant_id=awarded, amount_ore=40_000_001, paid_on="2016-06-01", actor=OFFICER)
    assert code == "disbursement_exceeds_commitment"
    assert snapshot(store) == before

    grant = ledger.disburse(grant_id=awarded, amount_ore=40_000_000, paid_on="2016-06-01", actor=OFFICER)
    assert grant["id"] == awarded and grant["balance"]["disbursed_ore"] == 40_000_000
    assert store.db.grant_balances.find_one({"_id": awarded})["disbursed"] == 40_000_000
