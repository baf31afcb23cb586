"""Reporting obligations of an awarded grant: overdue is reported once, fulfilment is recorded once."""
from services.grants.tests.usecase.conftest import OFFICER, outbox


def test_an_overdue_obligation_is_reported_once(store, obligations, awarded):
    obligation_id = f"{awarded}:mid-term-review"  # due 2017-06-30
    assert obligations.report_overdue("2017-06-30") == 0  # the due day itself is still on time
    assert obligations.report_overdue("2017-07-01") == 1
    assert obligations.report_overdue("2017-07-02") == 0
    [event] = outbox(store, "grants.obligation.overdue")
    assert (event["subject"], event["data"]["obligationId"]) == (awarded, obligation_id)
    assert store.db.obligations.find_one({"_id": obligation_id})["overdue_reported"] is True


def test_fulfilling_an_obligation_is_stored_and_announced_once(store, obligations, awarded):
    arguments = dict(obligation_id=f"{awarded}:mid-term-review", fulfilled_on="2017-07-05", actor=OFFICER,
                     request_id="fulfil-req-0001")
    assert obligations.fulfil(**arguments) == obligations.fulfil(**arguments)  # a retry, not a second fulfilment
    assert store.db.obligations.find_one({"_id": arguments["obligation_id"]})["fulfilled_on"] == "2017-07-05"
    [event] = outbox(store, "grants.obligation.fulfilled")
    assert event["data"]["late"] is True
