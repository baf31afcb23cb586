from datetime import date, datetime, timedelta, timezone
from itertools import product

import pytest

from services.grants.domain.applications import ALLOWED, EVENT_TYPES, State, draft
from services.grants.domain.errors import (InvalidAmount, InvalidInput, InvalidPeriod, KnowledgeInstitutionRequired,
                                           OutsidePeriod, RecipientNotEarmarked, TransitionNotAllowed,
                                           UnknownOrganisation)
from services.grants.domain.organisations import Organisation, Role

from .conftest import CONSULTANCY, NGO, PRO_VEST, UNIVERSITY, advance, make_draft

LEGAL = {
    (State.DRAFT, State.SUBMITTED), (State.DRAFT, State.WITHDRAWN),
    (State.SUBMITTED, State.IN_ASSESSMENT), (State.SUBMITTED, State.WITHDRAWN),
    (State.IN_ASSESSMENT, State.AWARDED), (State.IN_ASSESSMENT, State.REJECTED),
    (State.IN_ASSESSMENT, State.WITHDRAWN),
    (State.AWARDED, State.ACTIVE), (State.ACTIVE, State.CLOSED),
}


def test_the_table_is_exactly_the_documented_lifecycle():
    assert {(a, b) for a, targets in ALLOWED.items() for b in targets} == LEGAL


def _in_state(state, pools, directory, clock):
    application = make_draft(pools, directory, clock)
    if state is State.DRAFT:
        return application
    if state in (State.REJECTED, State.WITHDRAWN):
        advance(application, pools, directory, clock, State.IN_ASSESSMENT)
        application.transition(state, actor="officer-1", clock=clock, reason="outside the pool's purpose")
        return application
    advance(application, pools, directory, clock, state)
    return application


@pytest.mark.parametrize("source, target", sorted(product(State, State), key=str))
def test_every_pair_of_states(source, target, pools, directory, clock):
    application = _in_state(source, pools, directory, clock)
    history_before = len(application.history)
    clock.at += timedelta(hours=1)
    if (source, target) in LEGAL:
        event = application.transition(target, actor="officer-1", clock=clock, reason="because")
        assert application.state is target
        assert event.type == EVENT_TYPES[target]
        assert event.data == {"applicationId": "app-1", "poolCode": "digital-outreach-pool",
                              "from": source.value, "to": target.value, "actor": "officer-1"}
        last = application.history[-1]
        assert (last.from_state, last.to_state, last.actor, last.at, last.reason) == (
            source, target, "officer-1", clock.at, "because")
    else:
        with pytest.raises(TransitionNotAllowed) as err:
            application.transition(target, actor="officer-1", clock=clock, reason="because")
        assert err.value.code == "transition_not_allowed"
        assert source.value in str(err.value) and target.value in str(err.value)
        assert err.value.details == {"from_state": source.value, "to_state": target.value}
        assert application.state is source
        assert len(application.history) == history_before


def test_draft_records_creation_and_emits_drafted(pools, directory, clock):
    application, event = draft(pools["forced-labour-pool"], directory, application_id="a-9", applicant_id=NGO,
                               knowledge_partner_id=UNIVERSITY, title="Screening tool", description="Cleaning sector",
                               requested_ore=450_000_000, start=date(2016, 1, 1), end=date(2018, 12, 31),
                               actor="user-1", clock=clock)
    assert application.state is State.DRAFT
    assert event.type == "grants.application.drafted" and event.time == clock.at
    assert application.history[0].from_state is None


@pytest.mark.parametrize("target", [State.REJECTED, State.WITHDRAWN])
def test_decisions_against_the_applicant_need_a_reason(target, pools, directory, clock):
    application = _in_state(State.IN_ASSESSMENT, pools, directory, clock)
    with pytest.raises(InvalidInput, match="reason"):
        application.transition(target, actor="officer-1", clock=clock, reason="  ")
    assert application.state is State.IN_ASSESSMENT


def test_actor_and_aware_time_are_required(pools, directory, clock):
    application = make_draft(pools, directory, clock)
    with pytest.raises(InvalidInput, match="actor"):
        application.transition(State.WITHDRAWN, actor="", clock=clock, reason="no longer needed")
    with pytest.raises(InvalidInput, match="timezone"):
        application.transition(State.WITHDRAWN, actor="u", clock=lambda: datetime(2016, 1, 1), reason="x")
    assert application.state is State.DRAFT and len(application.history) == 1


def test_reason_stays_out_of_the_event(pools, directory, clock):
    application = _in_state(State.IN_ASSESSMENT, pools, directory, clock)
    event = application.transition(State.REJECTED, actor="o", clock=clock, reason="private remark about staff")
    assert "private remark" not in repr(event.as_dict())


def test_assessment_notes_are_kept_apart_and_only_during_assessment(pools, directory, clock):
    application = make_draft(pools, directory, clock)
    with pytest.raises(TransitionNotAllowed):
        application.add_assessment_note(author="o", text="early", clock=clock)
    advance(application, pools, directory, clock, State.IN_ASSESSMENT)
    application.add_assessment_note(author="officer-1", text="strong partner", clock=clock)
    assert [n.text for n in application.assessment_notes] == ["strong partner"]
    event = application.transition(State.AWARDED, actor="officer-1", clock=clock)
    assert "strong partner" not in repr(event.as_dict())


# --- eligibility -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pool", ["digital-outreach-pool", "forced-labour-pool"])
def test_pools_1_and_2_need_a_knowledge_institution(pool, pools, directory, clock):
    with pytest.raises(KnowledgeInstitutionRequired, match="missing") as err:
        make_draft(pools, directory, clock, pool=pool, partner=None)
    assert err.value.code == "knowledge_institution_required"
    with pytest.raises(KnowledgeInstitutionRequired, match=CONSULTANCY):
        make_draft(pools, directory, clock, pool=pool, partner=CONSULTANCY)
    with pytest.raises(UnknownOrganisation):
        make_draft(pools, directory, clock, pool=pool, partner="DK-CVR-14938273")


def test_a_partner_that_loses_its_role_blocks_submission(pools, directory, clock):
    application = make_draft(pools, directory, clock)
    directory.add(Organisation(UNIVERSITY, "A University", {Role.APPLICANT}))
    with pytest.raises(KnowledgeInstitutionRequired):
        application.submit(pools["digital-outreach-pool"], directory, actor="u", clock=clock)
    assert application.state is State.DRAFT


@pytest.mark.parametrize("start, end, error", [
    (date(2015, 12, 31), date(2016, 6, 30), OutsidePeriod),
    (date(2016, 1, 1), date(2019, 1, 1), OutsidePeriod),
    (date(2017, 1, 1), date(2016, 12, 31), InvalidPeriod),
])
def test_requested_period_must_lie_within_the_pool_period(start, end, error, pools, directory, clock):
    with pytest.raises(error) as err:
        make_draft(pools, directory, clock, start=start, end=end)
    assert start.isoformat() in str(err.value) or end.isoformat() in str(err.value)


def test_the_period_bounds_themselves_are_inside(pools, directory, clock):
    assert make_draft(pools, directory, clock, start=date(2016, 1, 1), end=date(2018, 12, 31)).state is State.DRAFT


def test_requested_amount_is_positive_integer_ore_within_the_pool_budget(pools, directory, clock):
    budget = pools["digital-outreach-pool"].budget_ore
    assert make_draft(pools, directory, clock, requested=budget).requested_ore == budget
    with pytest.raises(InvalidAmount, match=str(budget)):
        make_draft(pools, directory, clock, requested=budget + 1)
    for bad in (0, -1, 1.0, True):
        with pytest.raises(InvalidAmount):
            make_draft(pools, directory, clock, requested=bad)


def test_pro_vest_funding_is_earmarked_and_needs_no_knowledge_partner(pools, directory, clock):
    application = make_draft(pools, directory, clock, pool="pro-vest-region-zealand", applicant=PRO_VEST,
                             partner=None, requested=1_000_000_00)  # no ceiling: the amount is not yet known
    assert application.state is State.DRAFT
    with pytest.raises(RecipientNotEarmarked, match="Pro Vest"):
        make_draft(pools, directory, clock, pool="pro-vest-region-zealand", applicant=NGO, partner=None)


def test_datetime_is_not_a_date(pools, directory, clock):
    with pytest.raises(InvalidPeriod):
        make_draft(pools, directory, clock, start=datetime(2016, 3, 1, tzinfo=timezone.utc))
