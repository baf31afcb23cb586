import pytest

from services.grants.domain.applications import State
from services.grants.domain.attribution import Attribution, attribute
from services.grants.domain.errors import NotActive, UnknownGrant

from .conftest import NGO, PRO_VEST, advance, make_draft


def test_an_active_grant_names_its_programme_and_fund(pools, directory, clock, plan):
    grant = make_draft(pools, directory, clock, pool="forced-labour-pool", application_id="g-2")
    advance(grant, pools, directory, clock, State.ACTIVE)
    assert attribute("g-2", {"g-2": grant}, plan) == Attribution(
        grant_id="g-2", initiative_number=2, initiative_code="forced-labour-pool", fund_code="forced-labour-pool",
        funder_id="DK-CVR-20453044", recipient_id=NGO)


def test_pro_vest_is_attributed_to_initiative_3_and_its_funding(pools, directory, clock, plan):
    grant = make_draft(pools, directory, clock, pool="pro-vest-region-zealand", application_id="pv",
                       applicant=PRO_VEST, partner=None)
    advance(grant, pools, directory, clock, State.ACTIVE)
    found = attribute("pv", {"pv": grant}, plan)
    assert (found.initiative_number, found.initiative_code, found.fund_code) == (
        3, "brothel-outreach-screening", "pro-vest-region-zealand")


@pytest.mark.parametrize("grant_id", ["missing", "", None])
def test_unknown_grant(grant_id, plan):
    with pytest.raises(UnknownGrant) as err:
        attribute(grant_id, {}, plan)
    assert err.value.code == "unknown_grant"


@pytest.mark.parametrize("state", [State.DRAFT, State.SUBMITTED, State.IN_ASSESSMENT, State.AWARDED,
                                   State.CLOSED])
def test_only_active_grants_fund_activities(state, pools, directory, clock, plan):
    grant = make_draft(pools, directory, clock)
    if state is not State.DRAFT:
        advance(grant, pools, directory, clock, state)
    with pytest.raises(NotActive, match=state.value) as err:
        attribute("app-1", {"app-1": grant}, plan)
    assert err.value.code == "not_active"
