"""Outreach on the real stack: RPC with sealed principals, ad triage's flags from Kafka, its own events on Kafka."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest
from nameko.exceptions import RemoteError

from kit.envelope import new_event
from tests.support.events import caught_up, produce_events
from tests.support.rpc import rpc_as
from tests.support.waiting import eventually

pytestmark = pytest.mark.stack
BUDGET = {"kind": "budget", "id": "cmm-own-budget"}
TODAY = datetime.now(timezone.utc).date().isoformat()


def code_of(exc: RemoteError) -> dict:
    return json.loads(exc.value)


def cmm(platform):
    return rpc_as(platform, "outreach_worker", "cmm")


def flagged(cluster: str, ad: str, priority: str = "high") -> dict:
    data = {"adKey": f"dkescort.example/{ad}", "clusterId": cluster, "score": 6.5, "priority": priority,
            "rulesetVersion": "1.0.0", "city": "odense"}
    return new_event("ad_triage.ad.flagged", "ad_triage", data["adKey"], data)


def envelopes(platform, topic: str, expect: int) -> list[dict]:
    return [json.loads(r.value) for r in platform.read_topic(topic, expect=expect, timeout=20)]


def test_a_visit_funded_by_cmm_raises_concern_and_every_event_reaches_kafka_without_the_label(platform):
    with cmm(platform) as rpc:
        venue = rpc.outreach.register_venue(kind="brothel", label="Massage Studio Vesterbrogade", municipality="101",
                                            address="Vesterbrogade 1", actor="worker-1",
                                            request_id=f"venue-{uuid.uuid4().hex}")
        done = rpc.outreach.record_visit(
            venue_id=venue["venue_id"], team_id="cmm-outreach", visited_on=TODAY,
            people_met=[{"language_group": "ro", "count": 3}], materials=["health_info"], health_services=[],
            identification_talk="offered", indicators=["debt_to_third_party", "lives_at_workplace",
                                                      "movement_controlled", "signs_of_violence"],
            screening_outcome="refer_for_identification", follow_up_needed=True, funding=BUDGET, actor="worker-1",
            request_id=f"visit-{uuid.uuid4().hex}")
        concern = rpc.outreach.venue_concern(venue_id=venue["venue_id"])
    assert done["state"] == "done" and done["next_visit"]["due_on"] > TODAY
    assert (concern["level"], concern["of_concern"], concern["ruleset_version"]) == ("high", True, "1.0.0")
    assert {s["kind"] for s in concern["signals"]} == {"visit_indicators", "screening_outcome"}
    venues = envelopes(platform, "outreach.venues", expect=2)
    visits = envelopes(platform, "outreach.visits", expect=2)
    assert [e["type"] for e in venues] == ["outreach.venue.registered", "outreach.venue.concern_changed"]
    assert sorted(e["type"] for e in visits) == ["outreach.visit.planned", "outreach.visit.recorded"]
    raw = json.dumps(venues + visits)
    assert "Vesterbrogade" not in raw and "Massage Studio" not in raw


def test_a_pro_vest_worker_cannot_touch_a_venue_outside_region_zealand(platform):
    with cmm(platform) as rpc:
        copenhagen = rpc.outreach.register_venue(kind="hotel", label="Hotel room", municipality="101",
                                                 actor="worker-1")
    with rpc_as(platform, "outreach_worker", "provest") as rpc:
        with pytest.raises(RemoteError) as outside:
            rpc.outreach.register_venue(kind="hotel", label="Hotel", municipality="101", actor="pv-1")
        with pytest.raises(RemoteError) as unseen:
            rpc.outreach.venue(venue_id=copenhagen["venue_id"])
        with pytest.raises(RemoteError) as planning:
            rpc.outreach.plan_visit(venue_id=copenhagen["venue_id"], team_id="provest-zealand", due_on=TODAY,
                                    actor="pv-1")
        roskilde = rpc.outreach.register_venue(kind="private_address", label="Flat", municipality="265",
                                               actor="pv-1")
    assert (code_of(outside.value)["code"], code_of(outside.value)["field"]) == ("outside_region", "municipality")
    assert code_of(unseen.value)["code"] == code_of(planning.value)["code"] == "unknown_venue"
    assert roskilde["region"] == "sjaelland"


def test_a_flag_delivered_twice_opens_one_task_and_an_attempt_is_published_for_ad_triage(platform):
    settings = platform.settings("outreach")
    cluster = "cl-" + uuid.uuid4().hex[:16]
    event = flagged(cluster, uuid.uuid4().hex[:8])
    produce_events(settings, "ad_triage.ads", [event, event, flagged(cluster, uuid.uuid4().hex[:8], "medium")])
    eventually(lambda: caught_up(settings, "outreach.on_ad", "ad_triage.ads"), 60, what="outreach consumed the flags")
    with cmm(platform) as rpc:
        tasks = [t for t in rpc.outreach.tasks(first=100)["items"] if t["cluster_id"] == cluster]
        assert [(t["ad_count"], t["priority"], t["regions"]) for t in tasks] == [(2, "high", ["syddanmark"])]
        task = rpc.outreach.record_attempt(task_id=tasks[0]["task_id"], channel="sms",
                                           at=datetime.now(timezone.utc).isoformat(),
                                           outcome="identification_talk_agreed", funding=BUDGET, actor="worker-1",
                                           request_id=f"attempt-{uuid.uuid4().hex}")
    assert task["state"] == "in_progress"
    assert [(a["channel"], a["outcome"], a["reached"]) for a in task["attempts"]] == [
        ("sms", "identification_talk_agreed", True)]
    contacts = [e for e in envelopes(platform, "outreach.contacts", expect=50)
                if e["data"].get("clusterId") == cluster]
    assert [(e["type"], e["data"]["outcome"], e["data"]["rulesetVersion"]) for e in contacts] == [
        ("outreach.contact.made", "identification_talk_agreed", "1.0.0")]
    with rpc_as(platform, "outreach_worker", "provest") as rpc:  # Odense is in Southern Denmark
        assert cluster not in {t["cluster_id"] for t in rpc.outreach.tasks(first=100)["items"]}


def test_a_grant_the_grants_service_does_not_know_is_refused_over_rpc_and_nothing_is_written(platform):
    with cmm(platform) as rpc:
        venue = rpc.outreach.register_venue(kind="brothel", label="Club", municipality="751", actor="worker-1")
        with pytest.raises(RemoteError) as refused:
            rpc.outreach.record_visit(
                venue_id=venue["venue_id"], team_id="cmm-outreach", visited_on=TODAY, people_met=[],
                materials=["condoms"], health_services=[], identification_talk="none", indicators=[],
                follow_up_needed=False, funding={"kind": "grant", "id": "app-" + "0" * 32}, actor="worker-1")
        assert rpc.outreach.visits(venue_id=venue["venue_id"])["items"] == []
    assert (code_of(refused.value)["code"], code_of(refused.value)["field"]) == ("funding_unknown", "funding")


def test_roles_outside_the_policy_are_refused_by_the_service_itself(platform):
    with rpc_as(platform, "evaluator", "ministry") as rpc:
        with pytest.raises(RemoteError) as refused:
            rpc.outreach.venues()
        figures = rpc.outreach.activity()
    assert code_of(refused.value)["code"] == "forbidden"
    month = TODAY[:7]
    assert {"month": month, "region": "hovedstaden", "organisation": "cmm", "count": 1, "people_met": 3} in \
        figures["visits"]
    assert {"region": "hovedstaden", "count": 1} in figures["venues_of_concern"]
    assert {"channel": "sms", "outcome": "identification_talk_agreed", "count": 1} in figures["contacts"]
    assert figures["people_met_by_language"]["ro"] >= 3


def test_a_screening_at_a_venue_from_the_screening_service_raises_its_concern(platform):
    with cmm(platform) as rpc:
        venue = rpc.outreach.register_venue(kind="massage_clinic", label="Clinic", municipality="101",
                                            actor="worker-1", request_id=f"venue-{uuid.uuid4().hex}")
    screening = "scr-" + uuid.uuid4().hex[:16]
    data = {"screeningId": screening, "organisation": "cmm", "recordedBy": "screener-1", "screenedOn": TODAY,
            "context": "venue", "instrument": "brothel-questionnaire", "instrumentVersion": "1.0.0",
            "outcome": "refer_for_identification", "indicatorCount": 4, "methodsOfControl": ["DebtBondage"],
            "sector": None, "region": "hovedstaden", "municipality": "101", "venueId": venue["venue_id"],
            "jointInspectionId": None, "identificationTalk": "offered"}
    event = new_event("screening.screening.recorded", "screening", screening, data)
    settings = platform.settings("outreach")
    produce_events(settings, "screening.screenings", [event, event])
    eventually(lambda: caught_up(settings, "outreach.on_screening", "screening.screenings"), 60,
               what="outreach consumed the screening")
    with cmm(platform) as rpc:
        concern = rpc.outreach.venue_concern(venue_id=venue["venue_id"])
    assert [(s["kind"], s["source_id"]) for s in concern["signals"]] == [("screening_outcome", screening)]
    assert concern["level"] in ("medium", "high")
