"""Funding: a budget line of the acting organisation, or an active grant of initiative 1 or 3."""
import pytest

from services.outreach.domain import funding as f
from services.outreach.domain.errors import (FundingInactive, FundingNotForOutreach, FundingNotYours,
                                             FundingUnknown)
from services.outreach.domain.reference import budget_lines, grant_initiatives

GRANT = "app-" + "4" * 32
ATTRIBUTION = {"grant_id": GRANT, "initiative_number": 3, "initiative_code": "brothels",
               "fund_code": "pro-vest-region-zealand", "funder_id": "ministry", "recipient_id": "provest"}


def test_parse_funding():
    assert f.parse_funding({"kind": "budget", "id": "cmm-own-budget"}) == f.FundingRef("budget", "cmm-own-budget")
    for bad in ({"kind": "cash", "id": "x"}, {"kind": "grant"}, {"kind": "grant", "id": ""}, "cmm-own-budget",
                {"kind": "grant", "id": "x" * 65}, {"kind": "grant", "id": GRANT, "note": "paid in cash"}, None):
        with pytest.raises(FundingUnknown) as caught:
            f.parse_funding(bad)
        assert caught.value.field == "funding" and "cash" not in caught.value.message.replace("kind", "")


def test_a_budget_line_funds_only_its_own_organisations_work():
    ref = f.FundingRef("budget", "cmm-own-budget")
    paid = f.check_budget_line(ref, "cmm", budget_lines())
    assert paid.as_dict() == {"kind": "budget", "id": "cmm-own-budget", "initiative": 3, "fundCode": "cmm-own-budget"}
    with pytest.raises(FundingNotYours) as caught:
        f.check_budget_line(ref, "provest", budget_lines())
    assert caught.value.code == "funding_not_yours"
    with pytest.raises(FundingUnknown):
        f.check_budget_line(f.FundingRef("budget", "no-such-line"), "cmm", budget_lines())


REF = f.FundingRef("grant", GRANT)


def test_a_grant_of_initiative_1_or_3_funds_outreach():
    paid = f.check_grant_attribution(REF, ATTRIBUTION, grant_initiatives())
    assert paid == f.Funding("grant", GRANT, 3, "pro-vest-region-zealand")
    online = {**ATTRIBUTION, "initiative_number": 1, "fund_code": "digital-outreach-pool"}
    assert f.check_grant_attribution(REF, online, grant_initiatives()).initiative == 1


@pytest.mark.parametrize("initiative", [2, 4, None, "3", True])
def test_a_grant_of_another_initiative_does_not_fund_outreach(initiative):
    with pytest.raises(FundingNotForOutreach) as caught:
        f.check_grant_attribution(REF, {**ATTRIBUTION, "initiative_number": initiative}, grant_initiatives())
    assert caught.value.code == "funding_not_for_outreach" and caught.value.field == "funding"


def test_grants_refusals_are_answered_with_outreach_codes():
    assert isinstance(f.from_grants_error("unknown_grant", GRANT), FundingUnknown)
    assert isinstance(f.from_grants_error("not_active", GRANT), FundingInactive)
    assert f.from_grants_error("not_active", GRANT).code == "funding_inactive"
    assert isinstance(f.from_grants_error("something_new", GRANT), FundingUnknown)


def test_funding_round_trips_through_its_event_form():
    paid = f.Funding("grant", GRANT, 1, "digital-outreach-pool")
    assert f.funding_from_dict(paid.as_dict()) == paid
