"""Digital outreach tasks from ad triage's flags, attempts, anonymous contacts and follow-up consent."""
from __future__ import annotations

import pytest

from services.outreach.tests.usecase.conftest import CMM, PROVEST, flag_event
from services.outreach.tests.usecase.test_venues_and_visits import refused

A, B, C = "cl-" + "a" * 16, "cl-" + "b" * 16, "cl-" + "c" * 16
GRANT = {"kind": "grant", "id": "app-" + "1" * 32}


def test_a_flag_delivered_twice_opens_one_task_per_cluster_not_per_ad(world):
    event = flag_event(A, "1")
    assert world.tasks().on_ad(event) is True
    assert world.tasks().on_ad(event) is False  # the same event again: recognised
    world.tasks().on_ad(flag_event(A, "1", event_id="another-delivery-of-the-same-fact"))  # a duplicate fact
    world.tasks().on_ad(flag_event(A, "2", priority="medium"))
    page = world.queries().tasks()
    assert [(t["cluster_id"], t["ad_count"], t["priority"]) for t in page["items"]] == [(A, 2, "high")]
    assert world.store.db["tasks"].count_documents({}) == 1


def test_tasks_are_ordered_by_priority_then_score_and_paged_by_cursor(world):
    world.tasks().on_ad(flag_event(A, "1", priority="medium", score=5.0))
    world.tasks().on_ad(flag_event(B, "2", priority="high", score=6.0))
    world.tasks().on_ad(flag_event(C, "3", priority="medium", score=5.5))
    first = world.queries().tasks(first=2)
    assert [t["cluster_id"] for t in first["items"]] == [B, C] and first["has_next_page"] and first["total"] == 3
    rest = world.queries().tasks(first=2, after=first["end_cursor"])
    assert [t["cluster_id"] for t in rest["items"]] == [A] and not rest["has_next_page"]
    refused(lambda: world.queries().tasks(after="bm90LWEtY3Vyc29y"), "invalid_cursor", "after")


def test_an_ad_moving_to_another_cluster_leaves_its_old_task(world):
    world.tasks().on_ad(flag_event(A, "1"))
    world.tasks().on_ad(flag_event(B, "1", event_id="merge-1"))  # ad triage merged the ad's cluster into B
    old = world.queries().task("ot-" + "a" * 16)
    assert (old["state"], old["ad_count"], old["merged_into"]) == ("merged", 0, B)
    assert [t["cluster_id"] for t in world.queries().tasks()["items"]] == [B]


def test_priority_none_takes_a_task_off_the_list_and_an_unflagged_ad_opens_none(world):
    world.tasks().on_ad(flag_event(A, "1", priority="low"))
    world.tasks().on_ad(flag_event(A, "1", priority="none", type_="ad_triage.ad.priority_changed"))
    assert world.queries().tasks()["items"] == []
    world.tasks().on_ad(flag_event(B, "9", priority="none", type_="ad_triage.ad.priority_changed"))
    assert world.store.db["tasks"].count_documents({"cluster_id": B}) == 0


def test_a_task_belongs_to_the_regions_of_its_cities(world):
    world.tasks().on_ad(flag_event(A, "1", city="næstved"))
    world.tasks().on_ad(flag_event(B, "2", city="københavn"))
    assert world.queries().task("ot-" + "a" * 16)["regions"] == ["sjaelland"]
    assert [t["cluster_id"] for t in world.queries(PROVEST).tasks()["items"]] == [A]
    refused(lambda: world.queries(PROVEST).task("ot-" + "b" * 16), "unknown_task")


def test_an_attempt_is_published_for_ad_triage_with_the_cluster_and_the_flagging_version(world):
    world.tasks().on_ad(flag_event(A, "1", version="1.1.0"))
    task = world.contacts().attempt(task_id="ot-" + "a" * 16, channel="sms", at="2016-05-02T10:00:00+02:00",
                                    outcome="identification_talk_agreed", funding=GRANT, actor="w")
    assert task["state"] == "in_progress" and task["attempts"][0]["reached"] is True
    [made] = world.events("outreach.contact.made")
    assert made["key"] == A
    data = made["envelope"]["data"]
    assert (data["clusterId"], data["rulesetVersion"], data["outcome"], data["channel"]) == (
        A, "1.1.0", "identification_talk_agreed", "sms")
    assert data["funding"]["initiative"] == 1
    closed = world.tasks().close(task_id=task["task_id"], reason="identification_talk_agreed", actor="w")
    assert closed["state"] == "closed"
    refused(lambda: world.contacts().attempt(task_id=task["task_id"], channel="sms", at="2016-05-02T11:00:00+02:00",
                                             outcome="no_answer", funding=GRANT, actor="w"), "task_closed")


@pytest.mark.parametrize("change,code,field", [
    (dict(channel="pigeon"), "unknown_code", "channel"),
    (dict(outcome="maybe"), "unknown_code", "outcome"),
    (dict(at="2016-05-02T10:00:00"), "invalid_input", "at"),
    (dict(at="2099-05-02T10:00:00+00:00"), "invalid_date", "at"),
    (dict(task_id="ot-" + "f" * 16), "unknown_task", "task_id"),
    (dict(funding={"kind": "grant", "id": "app-" + "2" * 32}), "funding_inactive", "funding"),
])
def test_a_bad_attempt_gets_its_code_and_writes_nothing(world, change, code, field):
    world.tasks().on_ad(flag_event(A, "1"))
    before = world.snapshot()
    arguments = dict(task_id="ot-" + "a" * 16, channel="call", at="2016-05-02T10:00:00+02:00", outcome="no_answer",
                     funding=GRANT, actor="w")
    arguments.update(change)
    refused(lambda: world.contacts().attempt(**arguments), code, field)
    assert world.snapshot() == before


def test_follow_up_consent_issues_a_code_once_and_links_later_contacts_until_withdrawn(world):
    venue = world.venue()
    first = world.contacts().record(channel="visit", venue_id=venue["venue_id"], occurred_on="2016-05-02",
                                    outcome="conversation_held", funding={"kind": "budget", "id": "cmm-own-budget"},
                                    follow_up_consent={"scope": ["follow_up_contact", "health_services"]},
                                    actor="w", request_id="contact-000001")
    code = first["follow_up_code"]
    assert code and code.startswith("FU-") and first["follow_up_linked"]
    again = world.contacts().record(channel="visit", venue_id=venue["venue_id"], occurred_on="2016-05-02",
                                    outcome="conversation_held", funding={"kind": "budget", "id": "cmm-own-budget"},
                                    follow_up_consent={"scope": ["follow_up_contact", "health_services"]},
                                    actor="w", request_id="contact-000001")
    assert again == first  # a retry answers as the first call did; no second code, no second consent
    assert len(world.events("outreach.consent_given".replace("consent_given", "follow_up_consent.given"))) == 1
    stored = repr(list(world.store.db["follow_ups"].find({}))) + repr([e["envelope"] for e in world.events()])
    assert code not in stored and code.replace("-", "") not in stored  # kept only as a keyed hash
    later = world.contacts().record(channel="call", occurred_on="2016-05-02", outcome="information_given",
                                    funding={"kind": "budget", "id": "cmm-own-budget"},
                                    follow_up_code=code.lower().replace("-", " "), actor="w")
    assert later["follow_up_linked"] and later["follow_up_code"] is None
    assert [c["channel"] for c in world.contacts().follow_up(follow_up_code=code)["contacts"]] == ["visit", "call"]
    world.contacts().withdraw(follow_up_code=code, actor="w")
    [withdrawn] = world.events("outreach.follow_up_consent.withdrawn")
    assert set(withdrawn["envelope"]["data"]) == {"followUpId", "organisation", "withdrawnOn"}
    before = world.snapshot()
    refused(lambda: world.contacts().record(channel="call", occurred_on="2016-05-02", outcome="information_given",
                                            funding={"kind": "budget", "id": "cmm-own-budget"},
                                            follow_up_code=code, actor="w"), "consent_withdrawn", "follow_up_code")
    assert world.snapshot() == before


def test_without_agreement_nothing_links_two_contacts(world):
    venue = world.venue()
    for _ in range(2):
        answer = world.contacts().record(channel="visit", venue_id=venue["venue_id"], occurred_on="2016-05-02",
                                         outcome="information_given", language_group="bg",
                                         funding={"kind": "budget", "id": "cmm-own-budget"}, actor="w")
        assert answer["follow_up_code"] is None and not answer["follow_up_linked"]
    assert {e["envelope"]["data"]["followUpId"] for e in world.events("outreach.contact.made")} == {None}
    assert world.store.db["follow_ups"].count_documents({}) == 0


def test_an_identification_talk_on_a_task_is_published_with_its_cluster(world):
    world.tasks().on_ad(flag_event(A, "1"))
    world.contacts().talk(held_on="2016-05-02", task_id="ot-" + "a" * 16, actor="w")
    [held] = world.events("outreach.identification_talk.held")
    assert (held["key"], held["envelope"]["data"]["clusterId"]) == (A, A)
    refused(lambda: world.contacts().talk(held_on="2016-05-02", actor="w"), "invalid_input", "venue_id")


def test_evaluators_aggregates_carry_no_ids(world):
    venue = world.venue()
    world.visit(venue["venue_id"], people_met=[{"language_group": "ro", "count": 2}])
    figures = world.queries().activity()
    assert figures["visits"] == [{"region": "hovedstaden", "organisation": "cmm", "month": "2016-05", "count": 1,
                                  "people_met": 2}]
    assert figures["people_met_by_language"] == {"ro": 2}
    assert venue["venue_id"] not in repr(figures)
    assert CMM.organisation == "cmm"


def test_the_lists_totals_kept_with_each_write_equal_a_count_of_the_tasks(world):
    """The task list's total is read from counters (a count would scan every task): after flags, priority changes,
    cluster moves, attempts and closes they equal what a count finds, for every filter and region."""
    import random
    rng = random.Random(5)
    clusters = [f"cl-{i:016x}" for i in range(12)]
    cities = ["københavn", "næstved", "odense", None]
    for n in range(120):
        world.tasks().on_ad(flag_event(rng.choice(clusters), str(rng.randrange(40)),
                                       priority=rng.choice(["high", "medium", "low", "none"]),
                                       city=rng.choice(cities), event_id=f"mix-{n}",
                                       type_=rng.choice(["ad_triage.ad.flagged", "ad_triage.ad.priority_changed"])))
        if n % 17 == 0:
            listed = world.queries().tasks(first=100)["items"]
            if listed:
                task = rng.choice(listed)
                if rng.random() < 0.5:
                    world.contacts().attempt(task_id=task["task_id"], channel="call", at="2016-05-02T10:00:00+00:00",
                                             outcome="no_answer", funding=GRANT, actor="w")
                else:
                    world.tasks().close(task_id=task["task_id"], reason="not_relevant", actor="w")
    tasks = list(world.store.db["tasks"].find({}))
    for state in (None, "open", "in_progress", "closed", "merged"):
        for priority in (None, "high", "medium", "low", "none"):
            for scope in (CMM, PROVEST):
                page = world.queries(scope).tasks(state=state, priority=priority, first=100)
                expected = [t for t in tasks
                            if (t["state"] == state if state else t["state"] in ("open", "in_progress"))
                            and (t["priority"] == priority if priority else t["priority_rank"] >= 1)
                            and (scope.region is None or scope.region in t["regions"])]
                assert page["total"] == len(expected) == len(page["items"]), (state, priority, scope)
