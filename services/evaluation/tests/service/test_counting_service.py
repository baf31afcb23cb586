"""Evaluation on the real stack: facts from Kafka counted once each, other types on the same topic passed over."""
import json

import pytest

from kit.contracts import default_registry
from kit.envelope import new_event
from tests.support.events import caught_up, produce_events, submitted
from tests.support.rpc import rpc_as
from tests.support.waiting import eventually

pytestmark = pytest.mark.stack
GROUP = "evaluation.on_grants_application"


def drafted() -> dict:
    example = json.loads((default_registry().contract("grants.application.drafted").folder / "examples" /
                          "v1-example.json").read_text())
    return new_event("grants.application.drafted", "grants", example["applicationId"], example)


def counts(platform) -> dict[int, int]:
    with rpc_as(platform, "evaluator") as rpc:
        answer = rpc.evaluation.activity_counts()
    return {row["initiative"]: row["count"] for row in answer["applications_submitted"]}


def test_each_submission_counts_once_and_other_types_are_passed_over(platform):
    settings = platform.settings("evaluation")
    before = counts(platform)
    events = [submitted(initiative=2) for _ in range(4)]
    # every event twice (a redelivery), with a drafted event of the same topic between them
    produce_events(settings, "grants.applications", events + [drafted()] + events)
    eventually(lambda: caught_up(settings, GROUP, "grants.applications"), 60, what="the consumer at the topic's end")
    after = counts(platform)
    assert after[2] - before[2] == 4
    assert {n: after[n] - before[n] for n in (1, 3, 4)} == {1: 0, 3: 0, 4: 0}
    assert platform.read_topic("deadletter.evaluation", expect=1, timeout=3) == []


def test_an_initiative_outside_the_plan_is_refused_at_the_rpc_edge(platform):
    from nameko.exceptions import RemoteError
    with rpc_as(platform, "evaluator") as rpc, pytest.raises(RemoteError) as refused:
        rpc.evaluation.activity_counts(initiative=9)
    assert refused.value.exc_type == "CommandRejected" and "initiative" in refused.value.value
