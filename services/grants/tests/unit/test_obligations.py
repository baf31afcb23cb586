from datetime import date, timedelta

import pytest

from services.grants.domain.errors import InvalidInput, UnknownObligation
from services.grants.domain.obligations import (fulfil, obligations_for, overdue, planned_milestones,
                                                report_overdue)

from .conftest import PRO_VEST, UNIVERSITY, make_draft


def test_mid_term_reviews_come_from_the_reference_data(plan):
    milestones = {(m.initiative_number, m.code): m for m in planned_milestones(plan)}
    for number in (1, 2):
        review = milestones[(number, "mid-term-review")]
        assert (review.planned, review.precision, review.due) == ("2017-06", "month", date(2017, 6, 30))
    evaluation = milestones[(4, "evaluation-completed")]
    assert evaluation.due is None and evaluation.planned_text == "by spring 2017"  # no invented day


def test_knowledge_partner_owes_outcome_documentation(pools, directory, clock):
    application = make_draft(pools, directory, clock)  # 2016-03-01 .. 2018-06-30
    [mid_term, final] = obligations_for(application, pools["digital-outreach-pool"], final_due=date(2018, 9, 30))
    assert (mid_term.responsible_id, mid_term.due, mid_term.milestone_code) == (
        UNIVERSITY, date(2017, 6, 30), "mid-term-review")
    assert (final.responsible_id, final.due, final.kind) == (UNIVERSITY, date(2018, 9, 30), "outcome_documentation")
    with pytest.raises(InvalidInput, match="final_due"):
        obligations_for(application, pools["digital-outreach-pool"], final_due=date(2016, 1, 1))


def test_no_mid_term_obligation_for_a_grant_that_ended_before_the_review(pools, directory, clock):
    application = make_draft(pools, directory, clock, start=date(2016, 3, 1), end=date(2017, 5, 31))
    assert obligations_for(application, pools["digital-outreach-pool"]) == []


def test_pro_vest_has_no_knowledge_institution_obligation(pools, directory, clock):
    application = make_draft(pools, directory, clock, pool="pro-vest-region-zealand", applicant=PRO_VEST,
                             partner=None)
    assert obligations_for(application, pools["pro-vest-region-zealand"], final_due=date(2019, 3, 1)) == []


@pytest.fixture
def obligations(pools, directory, clock):
    return obligations_for(make_draft(pools, directory, clock), pools["digital-outreach-pool"],
                           final_due=date(2018, 9, 30))


def test_overdue_starts_the_day_after_the_due_date(obligations):
    due = date(2017, 6, 30)
    assert overdue(obligations, due) == []
    assert [o.id for o in overdue(obligations, due + timedelta(days=1))] == ["app-1:mid-term-review"]
    assert len(overdue(obligations, date(2018, 10, 1))) == 2


def test_fulfilled_obligations_are_never_overdue(obligations, clock):
    event = fulfil(obligations, "app-1:mid-term-review", on=date(2017, 7, 5), actor="user-2", clock=clock)
    assert event.type == "grants.obligation.fulfilled" and event.data["late"] is True
    assert overdue(obligations, date(2017, 8, 1)) == []
    with pytest.raises(InvalidInput, match="already fulfilled"):
        fulfil(obligations, "app-1:mid-term-review", on=date(2017, 7, 6), actor="user-2", clock=clock)
    with pytest.raises(UnknownObligation):
        fulfil(obligations, "nope", on=date(2017, 7, 6), actor="user-2", clock=clock)


def test_overdue_event_is_emitted_exactly_once(obligations, clock):
    [event] = report_overdue(obligations, date(2017, 7, 1), clock)
    assert event.type == "grants.obligation.overdue" and event.subject == "app-1"
    assert event.data == {"obligationId": "app-1:mid-term-review", "grantId": "app-1",
                          "kind": "outcome_documentation", "responsibleId": UNIVERSITY, "dueOn": "2017-06-30",
                          "milestoneCode": "mid-term-review"}
    assert obligations[0].overdue_reported
    assert report_overdue(obligations, date(2017, 7, 2), clock) == []
    # the final report falls due later and gets its own single event
    assert [e.data["obligationId"] for e in report_overdue(obligations, date(2018, 10, 1), clock)] == ["app-1:final"]
    assert report_overdue(obligations, date(2019, 1, 1), clock) == []
    assert len(overdue(obligations, date(2019, 1, 1))) == 2  # still overdue, just not announced again
