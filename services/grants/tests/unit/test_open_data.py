import csv
import io
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from services.grants.domain.applications import State
from services.grants.domain.budget import Ledger
from services.grants.domain.csv_export import COLUMNS, to_csv
from services.grants.domain.errors import FloatAmount
from services.grants.domain.giving360 import amount_dkk, dumps, package
from services.grants.domain.grant_records import grant_records

from services.grants.tests.giving360_schema import validator as _validator

from .conftest import MINISTRY, NGO, PRO_VEST, advance, make_draft


@pytest.fixture
def published(plan, pools, directory, clock):
    ledger, events = Ledger.open(plan, clock)
    digital = make_draft(pools, directory, clock, application_id="app-1", requested=1_000_000_50)
    other = make_draft(pools, directory, clock, application_id="app-2", requested=500_000_00)
    pro_vest = make_draft(pools, directory, clock, pool="pro-vest-region-zealand", application_id="pv-1",
                          applicant=PRO_VEST, partner=None, requested=2_000_000_00)
    refused = make_draft(pools, directory, clock, application_id="app-3")
    for application in (digital, other, pro_vest, refused):
        advance(application, pools, directory, clock, State.IN_ASSESSMENT)
    refused.transition(State.REJECTED, actor="o", clock=clock, reason="out of scope")
    events += ledger.commit("app-1", "digital-outreach-pool", 1_000_000_50, award_date=date(2016, 3, 1), actor="o")
    events += ledger.commit("app-2", "digital-outreach-pool", 500_000_00, award_date=date(2016, 3, 2), actor="o")
    events += ledger.enter_budget("pro-vest-region-zealand", 2_000_000_00, actor="o")
    events += ledger.approve("pro-vest-region-zealand", actor="o", approved_on=date(2016, 2, 10), reference="Akt 42")
    events += ledger.commit("pv-1", "pro-vest-region-zealand", 2_000_000_00, award_date=date(2016, 3, 1), actor="o")
    for application in (digital, other, pro_vest):
        application.transition(State.AWARDED, actor="o", clock=clock)
    clock.at = datetime(2016, 4, 1, 8, tzinfo=timezone.utc)
    digital.transition(State.ACTIVE, actor="o", clock=clock)
    pro_vest.transition(State.ACTIVE, actor="o", clock=clock)
    events += ledger.disburse("app-1", 250_000_25, paid_on=date(2016, 4, 15), actor="o")
    clock.at += timedelta(days=30)
    events += ledger.reallocate("app-1", "app-2", 100_000_00, actor="o", reason="underspend")
    records = grant_records([digital, other, pro_vest, refused], events, directory, plan)
    return package(records, plan, issued=date(2016, 6, 1), license_url="https://creativecommons.org/licenses/by/4.0/")


def test_package_validates_against_the_360giving_schemas(published):
    validator = _validator()
    assert list(validator.iter_errors(published)) == []
    reparsed = json.loads(dumps(published), parse_float=Decimal)  # the emitted text, not only the dict
    assert list(validator.iter_errors(reparsed)) == []


def test_the_validator_is_not_a_rubber_stamp(published):
    broken = json.loads(dumps(published), parse_float=Decimal)
    del broken["grants"][0]["fundingOrganization"]
    broken["grants"][1]["awardDate"] = "1 March 2016"
    assert len(list(_validator().iter_errors(broken))) >= 2


def test_only_awarded_grants_are_published_with_prefixed_ids(published):
    assert [g["id"] for g in published["grants"]] == ["360G-dkthb-app-1", "360G-dkthb-app-2", "360G-dkthb-pv-1"]
    assert published["publisher"] == {"identifier": MINISTRY,
                                      "name": "Ministry for Children, Education and Gender Equality"}


def test_grant_content(published, plan):
    digital = published["grants"][0]
    assert digital["currency"] == "DKK" and digital["awardDate"] == "2016-03-01"
    assert digital["amountAppliedFor"] == Decimal("1000000.50")
    # awarded 1,000,000.50, of which 100,000.00 moved to app-2
    assert digital["amountAwarded"] == Decimal("900000.50") and digital["amountDisbursed"] == Decimal("250000.25")
    assert [t["value"] for t in digital["commitmentTransaction"]] == [Decimal("1000000.50"), -100000]
    assert digital["disbursementTransaction"] == [{
        "id": "app-1-d1", "transactionDate": "2016-04-15", "currency": "DKK", "value": Decimal("250000.25"),
        "provider": MINISTRY, "recipient": NGO}]
    assert digital["recipientOrganization"] == [{"id": NGO, "name": "Outreach NGO"}]
    assert digital["fundingOrganization"] == [{"id": MINISTRY, "name": plan.funder_name}]
    assert digital["grantProgramme"] == [{"code": "digital-outreach-pool", "title": plan.initiative(1).title}]
    assert digital["plannedDates"] == [
        {"title": "Grant period", "startDate": "2016-03-01", "endDate": "2018-06-30"},
        {"title": "Mid-term review", "startDate": "2017-06", "endDate": "2017-06"}]
    assert digital["actualDates"] == [{"startDate": "2016-04-01"}]
    assert "beneficiaryLocation" not in digital
    assert published["grants"][1]["amountAwarded"] == 600000


def test_pro_vest_is_located_in_region_zealand(published):
    pro_vest = published["grants"][2]
    assert pro_vest["beneficiaryLocation"] == [
        {"name": "Region Zealand", "countryCode": "DK", "geoCode": "DK02", "geoCodeType": "NUTS"}]
    assert [p["code"] for p in pro_vest["grantProgramme"]] == ["brothel-outreach-screening",
                                                               "pro-vest-region-zealand"]
    assert pro_vest["amountAwarded"] == 2000000 and isinstance(pro_vest["amountAwarded"], int)


def test_nothing_private_is_published(published):
    text = dumps(published)
    for private in ("out of scope", "underspend", "officer", '"o"', "user-7f3a", "Akt 42"):
        assert private not in text


def test_amount_conversion_is_exact():
    assert amount_dkk(350000000) == 3500000 and isinstance(amount_dkk(350000000), int)
    assert str(amount_dkk(125050)) == "1250.50" and str(amount_dkk(5)) == "0.05"
    assert str(amount_dkk(-125050)) == "-1250.50"
    assert dumps({"a": amount_dkk(125050), "b": amount_dkk(100)}) == '{"a":1250.50,"b":1}'


@given(st.integers(-10**15, 10**15))
def test_conversion_round_trips_through_the_json_text(ore):
    value = json.loads(dumps(amount_dkk(ore)), parse_float=Decimal)
    assert Decimal(value) * 100 == ore


def test_a_float_is_refused_by_the_writer():
    with pytest.raises(FloatAmount):
        dumps({"amountAwarded": 1.5})


def test_csv_has_one_row_per_grant_with_the_same_figures(published):
    rows = list(csv.DictReader(io.StringIO(to_csv(published["grants"]))))
    assert len(rows) == 3
    assert list(rows[0]) == [title for title, _ in COLUMNS]
    first, pro_vest = rows[0], rows[2]
    assert first["Identifier"] == "360G-dkthb-app-1"
    assert (first["Amount Awarded"], first["Amount Disbursed"], first["Amount Applied For"]) == (
        "900000.50", "250000.25", "1000000.50")
    assert first["Recipient Org:Identifier"] == NGO and first["Funding Org:Identifier"] == MINISTRY
    assert first["Planned Dates:Start Date"] == "2016-03-01" and first["Actual Dates:End Date"] == ""
    assert first["Grant Programme 2:Code"] == ""
    assert pro_vest["Grant Programme 2:Code"] == "pro-vest-region-zealand"
    assert pro_vest["Beneficiary Location:Geographic Code"] == "DK02"
    assert pro_vest["Amount Awarded"] == "2000000"


def test_csv_quotes_awkward_text():
    grant = {"id": "x", "title": 'Say "hi", then\nleave', "description": "d", "currency": "DKK",
             "amountAwarded": 1, "awardDate": "2016-01-01"}
    [row] = list(csv.DictReader(io.StringIO(to_csv([grant]))))
    assert row["Title"] == 'Say "hi", then\nleave' and row["Amount Disbursed"] == ""
