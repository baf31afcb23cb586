"""Every outreach event built from sample values: the spec's camelCase fields, and nothing personal."""
from datetime import date

import pytest

from services.outreach.domain import events as e
from services.outreach.domain.funding import Funding
from services.outreach.domain.visits import check_visit

PAID = Funding("budget", "cmm-own-budget", 3, "cmm-own-budget")
RECORD = check_visit(visited_on=date(2017, 3, 1), people_met=[{"language_group": "ro", "count": 2}],
                     materials=["condoms"], health_services=["sti_testing"], identification_talk="offered",
                     indicators=["recently_arrived"], screening_outcome=None, follow_up_needed=True,
                     today=date(2017, 3, 2))
VEN, VIS, CON, FU, CL, OT = ("ven-" + "1" * 16, "vis-" + "2" * 16, "con-" + "3" * 16, "fu-" + "4" * 16,
                             "cl-" + "5" * 16, "ot-" + "5" * 16)

SAMPLES = {
    e.VENUE_REGISTERED: dict(venue_id=VEN, kind="brothel", municipality="101", region="hovedstaden",
                             organisation="cmm"),
    e.CONCERN_CHANGED: dict(venue_id=VEN, region="hovedstaden", score=5.5, level="medium", previous_level="low",
                            of_concern=True, previously_of_concern=False, ruleset_version="1.0.0", cause="signal"),
    e.VISIT_PLANNED: dict(visit_id=VIS, venue_id=VEN, team_id="cmm-outreach", organisation="cmm",
                          region="hovedstaden", due_on=date(2017, 3, 8), cause="revisit"),
    e.VISIT_RECORDED: dict(visit_id=VIS, venue_id=VEN, team_id="cmm-outreach", organisation="cmm",
                           region="hovedstaden", record=RECORD, funding=PAID),
    e.VISIT_OVERDUE: dict(visit_id=VIS, venue_id=VEN, team_id="cmm-outreach", organisation="cmm",
                          region="hovedstaden", due_on=date(2017, 3, 8), detected_on=date(2017, 3, 9)),
    e.CONTACT_MADE: dict(contact_id=CON, channel="sms", occurred_on=date(2017, 3, 1), outcome="conversation_held",
                         organisation="cmm", funding=PAID, task_id=OT, cluster_id=CL, ruleset_version="1.0.0",
                         follow_up_id=FU, language_group="ro"),
    e.TALK_HELD: dict(held_on=date(2017, 3, 1), organisation="cmm", contact_id=CON, task_id=OT, cluster_id=CL,
                      ruleset_version="1.0.0", follow_up_id=FU),
    e.CONSENT_GIVEN: dict(follow_up_id=FU, scope=("follow_up_contact",), contact_id=CON, organisation="cmm",
                          recorded_on=date(2017, 3, 1)),
    e.CONSENT_WITHDRAWN: dict(follow_up_id=FU, organisation="cmm", withdrawn_on=date(2017, 4, 1)),
}

FIELDS = {
    e.VENUE_REGISTERED: "venueId kind municipality region organisation",
    e.CONCERN_CHANGED: "venueId region score level previousLevel ofConcern previouslyOfConcern rulesetVersion cause",
    e.VISIT_PLANNED: "visitId venueId teamId organisation region dueOn cause",
    e.VISIT_RECORDED: "visitId venueId teamId organisation region visitedOn peopleMet peopleMetTotal materials "
                      "healthServices identificationTalk indicators screeningOutcome followUpNeeded funding",
    e.VISIT_OVERDUE: "visitId venueId teamId organisation region dueOn detectedOn",
    e.CONTACT_MADE: "contactId channel occurredOn outcome reached venueId visitId taskId clusterId rulesetVersion "
                    "followUpId languageGroup organisation funding",
    e.TALK_HELD: "contactId venueId taskId clusterId rulesetVersion heldOn organisation followUpId",
    e.CONSENT_GIVEN: "followUpId scope contactId organisation recordedOn",
    e.CONSENT_WITHDRAWN: "followUpId organisation withdrawnOn",
}


def test_there_are_nine_event_types_on_three_topics():
    assert len(e.ALL) == len(set(e.ALL)) == 9 and set(e.BUILDERS) == set(e.ALL) == set(e.TOPICS)
    assert all(t.startswith("outreach.") for t in e.ALL)
    assert set(e.TOPICS.values()) == {"outreach.venues", "outreach.visits", "outreach.contacts"}


@pytest.mark.parametrize("event_type", e.ALL)
def test_each_builder_gives_exactly_the_spec_fields(event_type):
    data = e.BUILDERS[event_type](**SAMPLES[event_type])
    assert set(data) == set(FIELDS[event_type].split())


def _keys(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _keys(v)
    elif isinstance(value, list):
        for v in value:
            yield from _keys(v)


def _strings(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


@pytest.mark.parametrize("event_type", e.ALL)
def test_no_event_carries_anything_personal(event_type):
    data = e.BUILDERS[event_type](**SAMPLES[event_type])
    keys = {k.lower() for k in _keys(data)}
    assert not keys & {"label", "address", "note", "notes", "followupcode", "code", "name", "text"}
    assert not any(s.startswith("FU-") for s in _strings(data))  # a follow-up code never, its fu- id may
    e.check_not_personal(data)


def test_a_builder_refuses_to_add_what_it_does_not_know():
    with pytest.raises(TypeError):
        e.venue_registered(**SAMPLES[e.VENUE_REGISTERED], label="Club Nord")
    with pytest.raises(TypeError):
        e.contact_made(**SAMPLES[e.CONTACT_MADE], follow_up_code="FU-0000-0000-0000")
    with pytest.raises(ValueError):
        e.check_not_personal({"venueId": VEN, "nested": {"address": "Istedgade 1"}})


def test_values_are_json_ready_and_reached_follows_the_outcome():
    made = e.contact_made(**SAMPLES[e.CONTACT_MADE])
    assert made["occurredOn"] == "2017-03-01" and made["reached"] is True and made["venueId"] is None
    assert made["funding"] == {"kind": "budget", "id": "cmm-own-budget", "initiative": 3, "fundCode": "cmm-own-budget"}
    assert e.contact_made(**{**SAMPLES[e.CONTACT_MADE], "outcome": "no_answer"})["reached"] is False
    recorded = e.visit_recorded(**SAMPLES[e.VISIT_RECORDED])
    assert recorded["peopleMet"] == {"ro": 2} and recorded["peopleMetTotal"] == 2 and recorded["screeningOutcome"] is None
    assert recorded["visitedOn"] == "2017-03-01" and recorded["indicators"] == ["recently_arrived"]


def test_causes_are_checked():
    with pytest.raises(ValueError):
        e.concern_changed(**{**SAMPLES[e.CONCERN_CHANGED], "cause": "gossip"})
    with pytest.raises(ValueError):
        e.visit_planned(**{**SAMPLES[e.VISIT_PLANNED], "cause": "unplanned"})


def test_a_digital_contact_is_keyed_by_its_cluster_and_one_at_a_venue_by_the_venue():
    assert e.subject_of_contact(cluster_id=CL, venue_id=None, fallback=CON) == CL
    assert e.subject_of_contact(cluster_id=None, venue_id=VEN, fallback=CON) == VEN
    assert e.subject_of_contact(cluster_id=None, venue_id=None, fallback=CON) == CON
