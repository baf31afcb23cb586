"""Outreach end to end (issue 9, "Done when"), through the real gateway with ad triage, outreach, their relays and
the grants service running: a CMM outreach worker registers a venue and records a visit funded by CMM's budget line;
the venue's concern explanation shows its signals and rule-set version; imported generated ads open one digital
outreach task per flagged cluster; an attempt whose outcome is an agreed identification talk appears in ad triage's
per-version figures; a Pro Vest worker cannot touch a venue outside Region Zealand."""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timezone

import pytest
from pymongo import MongoClient

from services.ad_triage.contracts import ADS_TOPIC
from services.ad_triage.tests.service.helpers import generated_lines, import_lines
from tests.support.graphql import error_code, ok, request_id
from tests.support.platform import Platform
from tests.support.waiting import eventually

pytestmark = pytest.mark.stack

CMM_WORKER = ("outreach_worker", "cmm")
PROVEST_WORKER = ("outreach_worker", "provest")
CASEWORKER = ("caseworker", "cmm")
BUDGET = {"kind": "BUDGET", "id": "cmm-own-budget"}
TODAY = date.today().isoformat()

REGISTER = ('mutation($kind: VenueKind!, $label: String!, $m: String!, $address: String, $rid: String!) { '
            'registerVenue(kind: $kind, label: $label, municipality: $m, address: $address, requestId: $rid) { '
            'venueId kind region municipalityName hasAddress organisation concern { level ofConcern } } }')
RECORD_VISIT = """mutation($venue: ID!, $team: String!, $day: Date!, $funding: FundingInput!, $rid: String!) {
  recordVisit(venueId: $venue, teamId: $team, visitedOn: $day,
              peopleMet: [{languageGroup: "ro", count: 3}, {languageGroup: "th", count: 1}],
              materials: ["condoms", "cmm_hotline_card"], healthServices: ["sti_testing"], identificationTalk: OFFERED,
              indicators: ["debt_to_third_party", "movement_controlled", "signs_of_violence"],
              screeningOutcome: "indicators_present", followUpNeeded: true, funding: $funding, requestId: $rid) {
    visitId state visitedOn organisation region
    record { peopleMetTotal indicators identificationTalk }
    funding { kind id initiative }
    nextVisit { visitId dueOn state } } }"""
CONCERN = """query($venue: ID!) { venueConcern(venueId: $venue) {
  venueId score level ofConcern rulesetVersion ofConcernFrom thresholds { level threshold }
  signals { kind sourceId on weight decayedWeight halfLifeDays detail } } }"""
TASKS = "{ outreachTasks(first: 100) { totalCount edges { node { taskId clusterId priority state rulesetVersion } } } }"
ATTEMPT = """mutation($task: ID!, $at: DateTime!, $funding: FundingInput!, $rid: String!) {
  recordOutreachAttempt(taskId: $task, channel: SMS, at: $at, outcome: IDENTIFICATION_TALK_AGREED, funding: $funding,
                        requestId: $rid) {
    taskId state rulesetVersion attempts { channel outcome reached organisation } } }"""
OUTCOMES = ("{ triageOutcomes { rulesetVersion flaggedClusters reachedClusters identificationTalkClusters "
            "attempts } }")


@pytest.fixture(scope="module")
def platform(infra, otlp):
    """The platform as `make run` starts it, with the outreach service and both relays that feed it."""
    platform = Platform(infra, f"o{uuid.uuid4().hex[:8]}", otlp.endpoint)
    try:
        for name in ("grants", "evaluation", "ad_triage", "outreach"):
            platform.service(name)
        platform.relay("ad_triage")
        platform.relay("outreach")
        platform.gateway()
        yield platform
    finally:
        platform.stop()


def relays_idle(platform) -> None:
    """Wait until both relays published everything: the local MongoDB-wire server can lose a transaction that runs
    beside a relay's plain writes (a fault of the local stack, not of the code under test)."""
    client = MongoClient(platform.env["MONGO_URI"])
    try:
        for service in ("ad_triage", "outreach"):
            outbox = client[platform.settings(service).database].outbox
            eventually(lambda: outbox.count_documents({"status": "pending"}) == 0, 90, 0.3, f"the {service} relay idle")
    finally:
        client.close()


def flagged_clusters(platform) -> set[str]:
    """The clusters that hold an ad whose latest flag or priority change left it above priority none."""
    last: dict[str, dict] = {}
    for record in platform.read_topic(ADS_TOPIC, 10 ** 6, timeout=5):
        event = json.loads(record.value)
        if event["type"] in ("ad_triage.ad.flagged", "ad_triage.ad.priority_changed"):
            last[event["data"]["adKey"]] = event["data"]
    return {d["clusterId"] for d in last.values() if d["priority"] != "none"}


@pytest.fixture(scope="module")
def venue(platform) -> dict:
    created = ok(platform.graphql(REGISTER, {"kind": "BROTHEL", "label": "Villa Rosa", "m": "101",
                                             "address": "Istedgade 1, 1650 København V", "rid": request_id()},
                                  as_=CMM_WORKER), "registerVenue")
    print(f"\nregisterVenue (CMM): {created}")
    assert created["region"] == "hovedstaden" and created["municipalityName"] == "København"
    assert created["hasAddress"] is True and created["organisation"] == "cmm"
    assert created["concern"] == {"level": "none", "ofConcern": False}
    return created


def test_a_cmm_worker_records_a_visit_to_a_venue_and_its_concern_explanation_shows_the_signals(platform, venue):
    visit = ok(platform.graphql(RECORD_VISIT, {"venue": venue["venueId"], "team": "cmm-outreach", "day": TODAY,
                                               "funding": BUDGET, "rid": request_id()}, as_=CMM_WORKER),
               "recordVisit")
    print(f"recordVisit (CMM, budget line cmm-own-budget): {visit}")
    assert visit["state"] == "DONE" and visit["organisation"] == "cmm" and visit["region"] == "hovedstaden"
    assert visit["record"]["peopleMetTotal"] == 4 and visit["record"]["identificationTalk"] == "OFFERED"
    assert visit["funding"] == {"kind": "BUDGET", "id": "cmm-own-budget", "initiative": 3}
    assert visit["nextVisit"] is not None and visit["nextVisit"]["state"] == "PLANNED"  # the revisit follows
    plan = ok(platform.graphql('{ visitPlan(teamId: "cmm-outreach", first: 10) { totalCount edges { node { visitId '
                               'venueId state dueOn } } } }', as_=CMM_WORKER), "visitPlan")
    print(f"visitPlan (cmm-outreach): {plan}")
    assert {"visitId": visit["nextVisit"]["visitId"], "venueId": venue["venueId"], "state": "PLANNED",
            "dueOn": visit["nextVisit"]["dueOn"]} in [e["node"] for e in plan["edges"]]

    concern = ok(platform.graphql(CONCERN, {"venue": venue["venueId"]}, as_=CMM_WORKER), "venueConcern")
    print(f"venueConcern: {json.dumps(concern, ensure_ascii=False)}")
    kinds = {s["kind"]: s for s in concern["signals"]}
    assert {"visit_indicators", "screening_outcome"} <= set(kinds)
    assert kinds["visit_indicators"]["sourceId"] == visit["visitId"] and kinds["visit_indicators"]["on"] == TODAY
    assert concern["rulesetVersion"] == "1.0.0" and concern["ofConcern"] is True
    assert concern["level"] in ("medium", "high") and concern["score"] == pytest.approx(
        sum(s["decayedWeight"] for s in concern["signals"]), abs=0.01)
    assert [t["level"] for t in concern["thresholds"]] == ["high", "medium", "low"]

    contact = ok(platform.graphql(
        'mutation($v: ID!, $visit: ID!, $day: Date!, $f: FundingInput!, $rid: String!) { recordContact('
        'channel: VISIT, occurredOn: $day, outcome: CONVERSATION_HELD, funding: $f, venueId: $v, visitId: $visit, '
        'languageGroup: "ro", requestId: $rid) { contactId reached followUpLinked followUpCode } }',
        {"v": venue["venueId"], "visit": visit["visitId"], "day": TODAY, "f": BUDGET, "rid": request_id()},
        as_=CMM_WORKER), "recordContact")
    print(f"recordContact at the visit: {contact}")
    assert contact["reached"] is True and contact["followUpLinked"] is False and contact["followUpCode"] is None

    listed = ok(platform.graphql('{ venues(ofConcern: true, first: 10) { totalCount edges { node { venueId } } } }',
                                 as_=CMM_WORKER), "venues")
    assert venue["venueId"] in {e["node"]["venueId"] for e in listed["edges"]}
    address = ok(platform.graphql('query($v: ID!) { venueAddress(venueId: $v) { address } }',
                                  {"v": venue["venueId"]}, as_=CMM_WORKER), "venueAddress")
    assert address == {"address": "Istedgade 1, 1650 København V"}


def test_imported_ads_open_one_task_per_flagged_cluster_and_an_attempt_reaches_triage_figures(platform):
    report = import_lines(platform, generated_lines(300, seed=41, id_prefix="out-"))
    print(f"import of 300 generated ads: accepted {report.get('accepted')}")
    relays_idle(platform)

    def tasks_follow_flags():
        page = ok(platform.graphql(TASKS, as_=CMM_WORKER), "outreachTasks")
        expected = flagged_clusters(platform)
        clusters = [e["node"]["clusterId"] for e in page["edges"]]
        return page if expected and sorted(clusters) == sorted(expected) else None
    page = eventually(tasks_follow_flags, 90, 1.0, "one outreach task per flagged cluster")
    nodes = [e["node"] for e in page["edges"]]
    print(f"outreachTasks: {page['totalCount']} tasks for {len(flagged_clusters(platform))} flagged clusters; "
          f"first: {nodes[0]}")
    assert page["totalCount"] == len(nodes) == len({n["clusterId"] for n in nodes})  # one per cluster
    assert all(n["taskId"] == "ot-" + n["clusterId"].removeprefix("cl-") for n in nodes)
    assert all(n["state"] == "OPEN" for n in nodes)
    ranks = {"HIGH": 3, "MEDIUM": 2, "LOW": 1, "NONE": 0}
    assert [ranks[n["priority"]] for n in nodes] == sorted((ranks[n["priority"]] for n in nodes), reverse=True)

    task = nodes[0]
    at = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    attempted = ok(platform.graphql(ATTEMPT, {"task": task["taskId"], "at": at, "funding": BUDGET,
                                              "rid": request_id()}, as_=CMM_WORKER), "recordOutreachAttempt")
    print(f"recordOutreachAttempt (SMS, identification talk agreed): {attempted}")
    assert attempted["state"] == "IN_PROGRESS" and attempted["rulesetVersion"] == task["rulesetVersion"]
    assert attempted["attempts"] == [{"channel": "SMS", "outcome": "IDENTIFICATION_TALK_AGREED", "reached": True,
                                      "organisation": "cmm"}]

    def counted():
        figures = ok(platform.graphql(OUTCOMES, as_=CMM_WORKER), "triageOutcomes")
        row = next((r for r in figures if r["rulesetVersion"] == task["rulesetVersion"]), None)
        return row if row and row["identificationTalkClusters"] >= 1 else None
    row = eventually(counted, 60, 0.5, "the attempt's outcome in ad triage's figures")
    print(f"triageOutcomes for rule set {task['rulesetVersion']}: {row}")
    assert row["reachedClusters"] >= 1 and row["attempts"] >= 1 and row["flaggedClusters"] >= 1
    # the same figures for an evaluator: aggregates only
    assert ok(platform.graphql(OUTCOMES, as_=("evaluator", "some-institute")), "triageOutcomes")


def test_a_pro_vest_worker_cannot_touch_a_venue_outside_region_zealand(platform, venue):
    outside = platform.graphql(REGISTER, {"kind": "MASSAGE_CLINIC", "label": "Studio", "m": "101",
                                          "rid": request_id()}, as_=PROVEST_WORKER)
    print(f"registerVenue in København as Pro Vest: {outside}")
    assert error_code(outside) == "outside_region" and outside["data"]["registerVenue"] is None

    inside = ok(platform.graphql(REGISTER, {"kind": "MASSAGE_CLINIC", "label": "Studio", "m": "265",
                                            "rid": request_id()}, as_=PROVEST_WORKER), "registerVenue")
    assert inside["region"] == "sjaelland" and inside["organisation"] == "provest"

    for query, field in (('query($v: ID!) { venue(venueId: $v) { venueId label } }', "venue"),
                         ('query($v: ID!) { venueAddress(venueId: $v) { address } }', "venueAddress"),
                         ('query($v: ID!) { venueConcern(venueId: $v) { score } }', "venueConcern")):
        seen = platform.graphql(query, {"v": venue["venueId"]}, as_=PROVEST_WORKER)
        missing = platform.graphql(query, {"v": "ven-" + uuid.uuid4().hex[:16]}, as_=PROVEST_WORKER)
        print(f"{field} of the CMM venue as Pro Vest: {seen}")
        assert seen["data"][field] is None and error_code(seen) == "unknown_venue"
        assert error_code(missing) == "unknown_venue"  # no oracle: as if it did not exist
    visit = platform.graphql(RECORD_VISIT, {"venue": venue["venueId"], "team": "provest-zealand", "day": TODAY,
                                            "funding": BUDGET, "rid": request_id()}, as_=PROVEST_WORKER)
    assert visit["data"]["recordVisit"] is None and error_code(visit) == "unknown_venue"
    listed = ok(platform.graphql('{ venues(first: 100) { totalCount edges { node { venueId region } } } }',
                                 as_=PROVEST_WORKER), "venues")
    assert {e["node"]["region"] for e in listed["edges"]} == {"sjaelland"}
    assert venue["venueId"] not in {e["node"]["venueId"] for e in listed["edges"]}
    # a CMM worker, nationwide, sees both
    both = ok(platform.graphql('{ venues(first: 100) { edges { node { venueId } } } }', as_=CMM_WORKER), "venues")
    assert {venue["venueId"], inside["venueId"]} <= {e["node"]["venueId"] for e in both["edges"]}
