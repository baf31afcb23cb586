"""A screening the screening service made at a venue raises that venue's concern once, however often the event is
delivered; a workplace screening or an unknown venue changes nothing."""
from __future__ import annotations

from services.outreach.commands.screenings import ScreeningOutcomes


def screening_event(venue_id, outcome="refer_for_identification", screening="scr-0123456789abcdef",
                    event_id="ev-scr-1") -> dict:
    data = {"screeningId": screening, "organisation": "cmm", "recordedBy": "screener-1", "screenedOn": "2016-05-01",
            "context": "venue" if venue_id else "workplace", "instrument": "brothel-questionnaire",
            "instrumentVersion": "1.0.0", "outcome": outcome, "indicatorCount": 3,
            "methodsOfControl": ["DebtBondage"], "sector": None if venue_id else "F", "region": "hovedstaden",
            "municipality": "101", "venueId": venue_id, "jointInspectionId": None, "identificationTalk": "offered"}
    return {"id": event_id, "type": "screening.screening.recorded", "subject": screening, "sequence": 1,
            "data": data}


def test_a_refer_screening_at_a_venue_is_one_signal_and_raises_concern_once(world):
    venue = world.venue()
    outcomes = ScreeningOutcomes(world.ctx())
    event = screening_event(venue["venue_id"])
    assert outcomes.on_screening(event) is True
    assert outcomes.on_screening(event) is False  # redelivered: already applied
    concern = world.queries().concern(venue["venue_id"])
    assert [(s["kind"], s["source_id"]) for s in concern["signals"]] == [
        ("screening_outcome", "scr-0123456789abcdef")]
    assert concern["level"] != "none"
    assert len(world.events("outreach.venue.concern_changed")) == 1


def test_workplace_screenings_and_unknown_venues_change_nothing(world):
    venue = world.venue()
    before = world.snapshot()
    outcomes = ScreeningOutcomes(world.ctx())
    outcomes.on_screening(screening_event(None, event_id="ev-a"))
    outcomes.on_screening(screening_event("ven-ffffffffffffffff", event_id="ev-b"))
    after = world.snapshot()
    delivery = ("inbox", "positions")  # the consumer's own records of what it handled
    assert {k: v for k, v in after.items() if k not in delivery} == {k: v for k, v in before.items() if k not in delivery}
    assert world.queries().concern(venue["venue_id"])["signals"] == []
