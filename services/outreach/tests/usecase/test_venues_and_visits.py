"""Venues, concern and visits through the real commands and store (in memory)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from kit.inputs import InvalidInput
from services.outreach.domain.errors import OutreachError
from services.outreach.tests.usecase.conftest import CMM, PROVEST, flag_event


def refused(call, code: str, field: str | None = None):
    with pytest.raises((OutreachError, InvalidInput)) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    if field is not None:
        assert caught.value.field == field
    return caught.value


def test_a_venue_takes_its_region_from_the_municipality_and_publishes_nothing_personal(world):
    venue = world.venue(municipality="370", address="Ringstedgade 1, 4700 Næstved")  # Næstved: Region Zealand
    assert (venue["region"], venue["municipality_name"], venue["has_address"]) == ("sjaelland", "Næstved", True)
    [event] = world.events("outreach.venue.registered")
    assert event["envelope"]["data"] == {"venueId": venue["venue_id"], "kind": "massage_clinic",
                                         "municipality": "370", "region": "sjaelland", "organisation": "cmm"}
    stored = world.store.db["venues"].find_one({"_id": venue["venue_id"]})
    assert "Ringstedgade" not in repr(stored) and "high street" not in repr(stored)  # encrypted at rest
    assert world.queries().address(venue["venue_id"])["address"] == "Ringstedgade 1, 4700 Næstved"


def test_a_pro_vest_worker_is_refused_outside_region_zealand_and_sees_nothing_there(world):
    before = world.snapshot()
    refused(lambda: world.venue(PROVEST, municipality="101"), "outside_region", "municipality")
    assert world.snapshot() == before
    copenhagen = world.venue(CMM, municipality="101")
    refused(lambda: world.queries(PROVEST).venue(copenhagen["venue_id"]), "unknown_venue")
    missing = "ven-" + "0" * 16
    with pytest.raises(OutreachError) as a:
        world.queries(PROVEST).venue(copenhagen["venue_id"])
    with pytest.raises(OutreachError) as b:
        world.queries(PROVEST).venue(missing)
    assert a.value.message.replace(copenhagen["venue_id"], "X") == b.value.message.replace(missing, "X")
    refused(lambda: world.visit(copenhagen["venue_id"], PROVEST, team="provest-zealand"), "unknown_venue")
    assert world.queries(PROVEST).venues()["items"] == []
    zealand = world.venue(PROVEST, municipality="265")  # Roskilde
    assert zealand["region"] == "sjaelland"
    assert [v["venue_id"] for v in world.queries(PROVEST).venues()["items"]] == [zealand["venue_id"]]


def test_the_pro_vest_team_cannot_plan_outside_its_region_even_for_cmm_and_teams_belong_to_organisations(world):
    copenhagen = world.venue(CMM, municipality="101")
    due = (world.clock.day + timedelta(days=3)).isoformat()
    refused(lambda: world.visits(CMM).plan(venue_id=copenhagen["venue_id"], team_id="provest-zealand", due_on=due,
                                           actor="w"), "team_not_yours")
    zealand = world.venue(CMM, municipality="330")
    refused(lambda: world.visits(PROVEST).plan(venue_id=zealand["venue_id"], team_id="cmm-outreach", due_on=due,
                                               actor="w"), "team_not_yours")
    planned = world.visits(PROVEST).plan(venue_id=zealand["venue_id"], team_id="provest-zealand", due_on=due,
                                         actor="w")
    assert (planned["state"], planned["region"]) == ("planned", "sjaelland")
    from services.outreach.commands.scope import Scope
    from services.outreach.domain.reference import team
    with pytest.raises(OutreachError) as caught:
        team("provest-zealand").check_works_in("hovedstaden")
    assert caught.value.code == "outside_region"
    assert Scope(None, None).sees("hovedstaden")


def test_indicators_raise_concern_past_the_threshold_once_and_the_explanation_lists_each_signal(world):
    venue = world.venue()
    world.visit(venue["venue_id"], indicators=["debt_to_third_party", "lives_at_workplace"])  # 3.0: low
    assert [e["envelope"]["data"]["level"] for e in world.events("outreach.venue.concern_changed")] == ["low"]
    second = world.visit(venue["venue_id"], indicators=["movement_controlled", "signs_of_violence"],
                         screening_outcome="indicators_present")  # + 3.0 + 2.0 = 8.0: medium, of concern
    changes = [e["envelope"]["data"] for e in world.events("outreach.venue.concern_changed")]
    assert [(c["previousLevel"], c["level"], c["ofConcern"]) for c in changes] == [
        ("none", "low", False), ("low", "medium", True)]
    explanation = world.queries().concern(venue["venue_id"])
    assert (explanation["level"], explanation["of_concern"], explanation["ruleset_version"]) == ("medium", True,
                                                                                                  "1.0.0")
    assert explanation["score"] == pytest.approx(8.0)
    kinds = sorted((s["kind"], s["weight"]) for s in explanation["signals"])
    assert kinds == [("screening_outcome", 2.0), ("visit_indicators", 3.0), ("visit_indicators", 3.0)]
    # medium concern: the team comes back in 14 days
    assert second["next_visit"]["due_on"] == (world.clock.day + timedelta(days=14)).isoformat()


def test_concern_decays_and_the_sweep_reports_the_change_once(world):
    venue = world.venue()
    world.visit(venue["venue_id"], indicators=["debt_to_third_party", "lives_at_workplace", "signs_of_violence",
                                              "earnings_withheld"], screening_outcome="indicators_present")  # 8
    assert world.queries().venue(venue["venue_id"])["concern"]["level"] == "medium"
    from services.outreach.commands import concern
    world.clock.day += timedelta(days=61)  # one half-life of indicators: 6*0.5 + 2*0.5**(61/120) < 5
    assert concern.sweep(world.store, world.rules, world.clock.day) == 1
    assert concern.sweep(world.store, world.rules, world.clock.day) == 0
    last = world.events("outreach.venue.concern_changed")[-1]["envelope"]["data"]
    assert (last["previousLevel"], last["level"], last["cause"]) == ("medium", "low", "decay")


def test_an_unmade_visit_is_reported_overdue_once_however_often_the_sweep_runs(world):
    venue = world.venue()
    due = world.clock.day + timedelta(days=2)
    planned = world.visits().plan(venue_id=venue["venue_id"], team_id="cmm-outreach", due_on=due.isoformat(),
                                  actor="w")
    world.clock.day = due
    assert world.visits().sweep_overdue(world.clock.day) == 0  # due today is not late
    world.clock.day = due + timedelta(days=1)
    assert world.visits().sweep_overdue(world.clock.day) == 1
    assert world.visits().sweep_overdue(world.clock.day) == 0
    [overdue] = world.events("outreach.visit.overdue")
    assert overdue["envelope"]["data"]["visitId"] == planned["visit_id"]
    assert world.queries().visit(planned["visit_id"])["state"] == "overdue"
    done = world.visit(venue["venue_id"])  # a late visit fulfils the overdue one
    assert done["visit_id"] == planned["visit_id"] and done["state"] == "done"


def test_a_visit_record_holds_counts_not_names_and_names_its_funding(world):
    venue = world.venue()
    done = world.visit(venue["venue_id"], people_met=[{"language_group": "ro", "count": 2},
                                                       {"language_group": "th", "count": 1}])
    assert done["record"]["people_met"] == {"ro": 2, "th": 1} and done["record"]["people_met_total"] == 3
    [event] = world.events("outreach.visit.recorded")
    assert event["envelope"]["data"]["funding"] == {"kind": "budget", "id": "cmm-own-budget", "initiative": 3,
                                                    "fundCode": "cmm-own-budget"}


@pytest.mark.parametrize("funding,code", [
    ({"kind": "grant", "id": "app-" + "2" * 32}, "funding_inactive"),
    ({"kind": "grant", "id": "app-" + "3" * 32}, "funding_not_for_outreach"),
    ({"kind": "grant", "id": "app-" + "9" * 32}, "funding_unknown"),
    ({"kind": "budget", "id": "cmm-own-budget"}, "funding_not_yours"),  # Pro Vest cannot spend CMM's budget
    ({"kind": "budget", "id": "no-such-line"}, "funding_unknown"),
    ({"kind": "cash"}, "funding_unknown"),
])
def test_an_activity_under_funding_that_cannot_pay_for_it_is_refused_and_writes_nothing(world, funding, code):
    venue = world.venue(PROVEST, municipality="330")
    before = world.snapshot()
    refused(lambda: world.visit(venue["venue_id"], PROVEST, team="provest-zealand", funding=funding), code,
            "funding")
    assert world.snapshot() == before


def test_a_pro_vest_visit_under_its_active_grant_is_attributed_to_initiative_3(world):
    venue = world.venue(PROVEST, municipality="330")
    done = world.visit(venue["venue_id"], PROVEST, team="provest-zealand",
                       funding={"kind": "grant", "id": "app-" + "4" * 32})
    assert done["funding"] == {"kind": "grant", "id": "app-" + "4" * 32, "initiative": 3,
                               "fundCode": "pro-vest-region-zealand"}


BAD_VISITS = [
    (dict(visited_on="2016-13-01"), "invalid_input", "visited_on"),
    (dict(visited_on="2099-01-01"), "invalid_date", "visited_on"),
    (dict(visited_on="2015-12-31"), "invalid_date", "visited_on"),
    (dict(people_met=[{"language_group": "ro", "count": -1}]), "invalid_visit", "people_met"),
    (dict(people_met=[{"language_group": "xx", "count": 1}]), "unknown_code", "people_met"),
    (dict(people_met=[{"language_group": "ro", "count": 501}]), "invalid_visit", "people_met"),
    (dict(people_met=[{"language_group": "ro", "count": 1, "name": "Anna"}]), "invalid_visit", "people_met"),
    (dict(materials=["flyers"]), "unknown_code", "materials"),
    (dict(materials=["condoms", "condoms"]), "unknown_code", "materials"),
    (dict(health_services="sti_testing"), "unknown_code", "health_services"),
    (dict(identification_talk="maybe"), "unknown_code", "identification_talk"),
    (dict(indicators=["looks_sad"]), "unknown_code", "indicators"),
    (dict(screening_outcome="refer"), "unknown_code", "screening_outcome"),
    (dict(follow_up_needed="yes"), "invalid_visit", "follow_up_needed"),
    (dict(team_id="cmm-nowhere"), "unknown_team", "team_id"),
    (dict(venue_id="ven-123"), "invalid_id", "venue_id"),
    (dict(visit_id="vis-" + "0" * 16), "unknown_visit", "visit_id"),
    (dict(actor="has spaces"), "invalid_input", "actor"),
]


@pytest.mark.parametrize("change,code,field", BAD_VISITS)
def test_bad_visit_input_gets_its_code_and_field_and_writes_nothing(world, change, code, field):
    venue = world.venue()
    before = world.snapshot()
    refused(lambda: world.visit(venue["venue_id"], **change), code, field)
    assert world.snapshot() == before


@pytest.mark.parametrize("change,code,field", [
    (dict(kind="sauna"), "unknown_code", "kind"),
    (dict(municipality="999"), "unknown_municipality", "municipality"),
    (dict(municipality=101), "unknown_municipality", "municipality"),
    (dict(label=""), "invalid_input", "label"),
    (dict(label="x" * 201), "too_long", "label"),
    (dict(address="x" * 301), "too_long", "address"),
])
def test_bad_venue_input_gets_its_code_and_writes_nothing(world, change, code, field):
    before = world.snapshot()
    arguments = dict(kind="brothel", label="Club", municipality="101", actor="w", **{})
    arguments.update(change)
    refused(lambda: world.venues().register(**arguments), code, field)
    assert world.snapshot() == before


def test_a_retried_registration_with_the_same_request_id_registers_once(world):
    first = world.venue(request_id="register-venue-0001")
    again = world.venue(request_id="register-venue-0001")
    assert first == again and world.store.db["venues"].count_documents({}) == 1
    assert len(world.events("outreach.venue.registered")) == 1
    refused(lambda: world.venue(municipality="461", request_id="register-venue-0001"), "request_id_reused")


def test_a_linked_cluster_is_a_signal_that_follows_the_clusters_priority(world):
    cluster = "cl-" + "a" * 16
    world.tasks().on_ad(flag_event(cluster, "1", priority="medium"))
    venue = world.venue()
    linked = world.venues().link_cluster(venue_id=venue["venue_id"], cluster_id=cluster, actor="w")
    assert linked["linked_clusters"] == [cluster] and linked["concern"]["score"] == pytest.approx(2.0)
    world.tasks().on_ad(flag_event(cluster, "2", priority="high"))  # the cluster's priority rises
    assert world.queries().venue(venue["venue_id"])["concern"]["score"] == pytest.approx(4.0)
    refused(lambda: world.venues().link_cluster(venue_id=venue["venue_id"], cluster_id="cl-" + "b" * 16,
                                                actor="w"), "unknown_cluster")


def test_inspection_notes_and_identifications_count_and_the_note_is_encrypted(world):
    venue = world.venue()
    world.venues().inspection_note(venue_id=venue["venue_id"], on=world.clock.day.isoformat(),
                                   agencies=["police", "skat"], finding="serious_concerns",
                                   note="Manager named Jens keeps passports", actor="w")
    after = world.venues().identification(venue_id=venue["venue_id"], on=world.clock.day.isoformat(), persons=1,
                                          actor="w")
    assert after["concern"]["score"] == pytest.approx(13.0) and after["concern"]["level"] == "high"
    assert "Jens" not in repr(list(world.store.db["inspection_notes"].find({})))
    assert "Jens" not in repr([e["envelope"] for e in world.events()])
    refused(lambda: world.venues().inspection_note(venue_id=venue["venue_id"], on=world.clock.day.isoformat(),
                                                   agencies=[], finding="concerns", actor="w"),
            "invalid_input", "agencies")
