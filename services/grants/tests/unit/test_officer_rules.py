"""Domain rules of issue 11: organisation changes, awards above the request, disbursement dates, grant withdrawal."""
from datetime import date, timedelta

import pytest

from services.grants.domain import organisations as orgs
from services.grants.domain.applications import State
from services.grants.domain.budget import DISBURSEMENT_HORIZON_DAYS, Ledger
from services.grants.domain.errors import (AwardAboveRequested, DisbursementDateNotAllowed, GrantNotPayable,
                                           InvalidInput, OrganisationExists, RoleInUse, StaleVersion,
                                           TransitionNotAllowed)
from services.grants.domain.organisations import Organisation, Role
from services.grants.tests.unit.conftest import advance, make_draft

UNI = Organisation("DK-CVR-11234569", "University", frozenset({Role.KNOWLEDGE_INSTITUTION}))


def test_registering_a_known_organisation_is_refused():
    with pytest.raises(OrganisationExists):
        orgs.check_new(UNI.id, UNI)
    orgs.check_new(UNI.id, None)


def test_a_change_records_what_changed_and_needs_the_current_version():
    new, entry = orgs.change(UNI, 3, expected_version=3, name="KU", roles=None, live_applications=(), actor="o",
                             at="2016-02-01T09:00:00+00:00")
    assert new.name == "KU" and new.roles == UNI.roles
    assert entry.version == 4 and entry.changes == {"name": {"from": "University", "to": "KU"}}
    with pytest.raises(StaleVersion):
        orgs.change(UNI, 3, expected_version=2, name="KU", roles=None, live_applications=(), actor="o", at="t")
    with pytest.raises(InvalidInput):
        orgs.change(UNI, 3, expected_version=3, name="University", roles=None, live_applications=(), actor="o",
                    at="t")


@pytest.mark.parametrize("state, refused", [("draft", True), ("in_assessment", True), ("active", True),
                                            ("closed", False), ("rejected", False), ("withdrawn", False)])
def test_a_role_is_kept_while_an_application_in_progress_depends_on_it(state, refused):
    live = [("app-1", state, "knowledge_partner")]
    change = lambda: orgs.change(UNI, 1, expected_version=1, name=None, roles=frozenset({Role.APPLICANT}),  # noqa
                                 live_applications=live, actor="o", at="t")
    if refused:
        with pytest.raises(RoleInUse) as raised:
            change()
        assert "app-1" in str(raised.value) and "knowledge_institution" in str(raised.value)
    else:
        assert change()[0].roles == {Role.APPLICANT}


def test_an_award_above_the_request_needs_a_reason(pools, directory, clock):
    app = make_draft(pools, directory, clock)
    advance(app, pools, directory, clock, State.IN_ASSESSMENT)
    with pytest.raises(AwardAboveRequested):
        app.award(app.requested_ore + 1, actor="o", clock=clock)
    assert app.state is State.IN_ASSESSMENT and app.awarded_ore is None
    app.award(app.requested_ore + 1, actor="o", clock=clock, reason="agreed extra costs")
    assert app.awarded_ore == app.requested_ore + 1 and app.history[-1].reason == "agreed extra costs"


def test_only_awarded_or_active_grants_are_paid_and_withdrawn(pools, directory, clock):
    app = make_draft(pools, directory, clock)
    with pytest.raises(GrantNotPayable):
        app.check_payable()
    with pytest.raises(TransitionNotAllowed):
        app.withdraw_grant(actor="o", clock=clock, reason="r")
    advance(app, pools, directory, clock, State.IN_ASSESSMENT)
    app.award(1000, actor="o", clock=clock)
    app.check_payable()
    event = app.withdraw_grant(actor="o", clock=clock, reason="ended")
    assert app.state is State.WITHDRAWN and event.data["from"] == "awarded"
    with pytest.raises(GrantNotPayable):
        app.check_payable()


def test_a_disbursement_lies_between_award_and_pool_end_and_within_the_horizon(plan, clock):
    ledger, _ = Ledger.open(plan, clock)
    ledger.commit("g1", "digital-outreach-pool", 10_000, award_date=date(2016, 3, 1), actor="o")
    end = ledger._pools["digital-outreach-pool"].period.end
    for day in (date(1990, 1, 1), date(2016, 2, 29), end + timedelta(days=1),
                clock().date() + timedelta(days=DISBURSEMENT_HORIZON_DAYS + 1)):
        with pytest.raises(DisbursementDateNotAllowed):
            ledger.disburse("g1", 1, paid_on=day, actor="o")
    ledger.disburse("g1", 1, paid_on=date(2016, 3, 1), actor="o")
    assert ledger.grant("g1").disbursed == 1
