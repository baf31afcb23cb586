"""Visit records hold counts and codes; every slip is refused with its field; revisits follow the concern level."""
from datetime import date, timedelta

import pytest

from services.outreach.domain import visits as v
from services.outreach.domain.concern import load_rules
from services.outreach.domain.errors import InvalidDate, InvalidVisit, OutreachError, OutsideRegion, UnknownCode
from services.outreach.domain.reference import team

TODAY = date(2017, 3, 15)
RULES = load_rules("1.0.0")
GOOD = dict(visited_on=date(2017, 3, 14), people_met=[{"language_group": "ro", "count": 3},
                                                      {"language_group": "th", "count": 1}],
            materials=["health_info", "condoms"], health_services=["sti_testing"], identification_talk="offered",
            indicators=["debt_to_third_party"], screening_outcome="indicators_present", follow_up_needed=True)


def record(**change):
    return v.check_visit(**{**GOOD, **change}, today=TODAY)


def test_a_good_record_holds_counts_by_language_and_codes():
    r = record()
    assert r.people_met == {"ro": 3, "th": 1} and r.people_met_total == 4
    assert r.materials == ("health_info", "condoms") and r.screening_outcome == "indicators_present"


def test_people_met_may_come_as_a_mapping_and_zero_counts_are_dropped():
    assert record(people_met={"ro": 2, "bg": 0}).people_met == {"ro": 2}


@pytest.mark.parametrize("change,error,field", [
    (dict(visited_on=TODAY + timedelta(days=1)), InvalidDate, "visited_on"),
    (dict(visited_on=date(2015, 12, 31)), InvalidDate, "visited_on"),
    (dict(visited_on="2017-03-14"), InvalidDate, "visited_on"),
    (dict(people_met=[{"language_group": "ro", "count": -1}]), InvalidVisit, "people_met"),
    (dict(people_met=[{"language_group": "ro", "count": 1.5}]), InvalidVisit, "people_met"),
    (dict(people_met=[{"language_group": "ro", "count": True}]), InvalidVisit, "people_met"),
    (dict(people_met=[{"language_group": "ro", "count": 501}]), InvalidVisit, "people_met"),
    (dict(people_met=[{"language_group": "ro", "count": 300}, {"language_group": "bg", "count": 201}]),
     InvalidVisit, "people_met"),
    (dict(people_met=[{"language_group": "ro", "count": 1}, {"language_group": "ro", "count": 1}]),
     InvalidVisit, "people_met"),
    (dict(people_met=[{"language_group": "ro", "count": 1, "name": "Anna"}]), InvalidVisit, "people_met"),
    (dict(people_met=[{"language_group": "klingon", "count": 1}]), UnknownCode, "people_met"),
    (dict(people_met="three"), InvalidVisit, "people_met"),
    (dict(materials=["flyers"]), UnknownCode, "materials"),
    (dict(health_services="sti_testing"), UnknownCode, "health_services"),
    (dict(identification_talk="maybe"), UnknownCode, "identification_talk"),
    (dict(indicators=["looks_sad"]), UnknownCode, "indicators"),
    (dict(indicators=["debt_to_third_party", "debt_to_third_party"]), UnknownCode, "indicators"),
    (dict(screening_outcome="refer"), UnknownCode, "screening_outcome"),
    (dict(follow_up_needed="yes"), InvalidVisit, "follow_up_needed"),
])
def test_each_slip_is_refused_with_its_code_and_field(change, error, field):
    with pytest.raises(error) as caught:
        record(**change)
    assert caught.value.field == field
    assert "Anna" not in caught.value.message


def test_the_earliest_and_latest_days_are_allowed():
    assert record(visited_on=date(2016, 1, 1)).visited_on == date(2016, 1, 1)
    assert record(visited_on=TODAY).visited_on == TODAY


@pytest.mark.parametrize("field,change", [
    ("health_services", dict(health_services=["sti_testing"])),
    ("identification_talk", dict(identification_talk="held")),
    ("screening_outcome", dict(screening_outcome="no_indicators"))])
def test_what_needs_a_person_cannot_be_recorded_with_no_one_met(field, change):
    empty = dict(people_met=[], health_services=[], identification_talk="none", screening_outcome=None,
                 indicators=[], follow_up_needed=False)
    with pytest.raises(InvalidVisit) as caught:
        record(**{**empty, **change})
    assert caught.value.field == field


def test_a_record_must_say_something():
    with pytest.raises(InvalidVisit) as caught:
        record(people_met=[], materials=[], health_services=[], identification_talk="none", indicators=[],
               screening_outcome=None, follow_up_needed=False)
    assert caught.value.field == "people_met"
    # no one there, but leaflets left: that is a visit worth recording
    assert record(people_met=[], materials=["translated_leaflet"], health_services=[], identification_talk="none",
                  indicators=[], screening_outcome=None, follow_up_needed=False).people_met_total == 0


def test_revisits_follow_the_concern_level():
    visited = date(2017, 3, 1)
    assert v.next_due(visited, "high", RULES) == date(2017, 3, 8)
    assert v.next_due(visited, "medium", RULES) == date(2017, 3, 15)
    assert v.next_due(visited, "low", RULES) == date(2017, 3, 31)
    assert v.next_due(visited, "none", RULES) is None
    assert v.revisit_due(date(2017, 1, 1), "high", RULES, TODAY) == TODAY  # a late record plans no overdue visit


def test_a_visit_is_overdue_the_day_after_it_was_due():
    assert not v.is_overdue(TODAY, TODAY) and v.is_overdue(TODAY - timedelta(days=1), TODAY)
    assert not v.is_overdue(None, TODAY)


def test_due_dates_are_from_today_to_a_year_ahead():
    assert v.check_due(TODAY, TODAY) == TODAY
    for bad in (TODAY - timedelta(days=1), TODAY + timedelta(days=367), "2017-04-01"):
        with pytest.raises(InvalidDate) as caught:
            v.check_due(bad, TODAY)
        assert caught.value.field == "due_on"


def test_pro_vest_cannot_plan_or_record_a_visit_outside_region_zealand():
    provest = team("provest-zealand")
    planned = v.plan("vis-" + "1" * 16, venue_id="ven-" + "1" * 16, venue_region="sjaelland", team=provest,
                     due_on=TODAY, today=TODAY)
    assert planned.state == "planned" and planned.organisation == "provest"
    for act in (lambda: v.plan("vis-" + "2" * 16, venue_id="ven-" + "2" * 16, venue_region="hovedstaden",
                               team=provest, due_on=TODAY, today=TODAY),
                lambda: v.fulfil(None, record(), visit_id="vis-" + "3" * 16, venue_id="ven-" + "2" * 16,
                                 venue_region="syddanmark", team=provest)):
        with pytest.raises(OutsideRegion) as caught:
            act()
        assert caught.value.code == "outside_region"
    # CMM goes anywhere
    assert v.plan("vis-" + "4" * 16, venue_id="ven-" + "2" * 16, venue_region="nordjylland",
                  team=team("cmm-outreach"), due_on=TODAY, today=TODAY).region == "nordjylland"


def test_fulfilling_and_overdue_transitions():
    cmm = team("cmm-outreach")
    planned = v.plan("vis-" + "5" * 16, venue_id="ven-" + "5" * 16, venue_region="hovedstaden", team=cmm,
                     due_on=TODAY, today=TODAY)
    assert v.mark_overdue(planned, TODAY) is None
    overdue = v.mark_overdue(planned, TODAY + timedelta(days=1))
    assert overdue.state == "overdue" and v.mark_overdue(overdue, TODAY + timedelta(days=2)) is None
    done = v.fulfil(overdue, record(), visit_id="ignored", venue_id="ven-" + "5" * 16, venue_region="hovedstaden",
                    team=cmm)
    assert done.state == "done" and done.visited_on == GOOD["visited_on"]
    with pytest.raises(OutreachError):
        v.fulfil(done, record(), visit_id="x", venue_id="ven-" + "5" * 16, venue_region="hovedstaden", team=cmm)
    unplanned = v.fulfil(None, record(), visit_id="vis-" + "6" * 16, venue_id="ven-" + "5" * 16,
                         venue_region="hovedstaden", team=cmm)
    assert (unplanned.state, unplanned.cause, unplanned.due_on) == ("done", "unplanned", None)
