"""The thin slice: gateway → nameko RPC → MongoDB + outbox → Kafka → a consumer in another service, one trace."""
import os

import pytest

from tests.support.tokens import bearer
from tests.support.waiting import eventually

pytestmark = pytest.mark.stack

ACTION_PLAN = "{ actionPlan { title initiatives { number title budgetDkk period { start end } } } }"
COUNTS = "{ evaluation { activity { metric counts { initiative count } } } }"


def submitted_count(platform, initiative: int) -> int:
    result = platform.graphql(COUNTS)
    metric = next(m for m in result["data"]["evaluation"]["activity"] if m["metric"] == "applications_submitted")
    return next(c["count"] for c in metric["counts"] if c["initiative"] == initiative)


def test_action_plan_answers_from_the_data_file(platform):
    result = platform.graphql(ACTION_PLAN)
    assert "errors" not in result
    plan = result["data"]["actionPlan"]
    assert plan["title"].startswith("Amendment to the Action Plan to Combat Trafficking")
    by_number = {i["number"]: i for i in plan["initiatives"]}
    assert sorted(by_number) == [1, 2, 3, 4]
    assert by_number[1]["budgetDkk"] == "3500000" and by_number[2]["budgetDkk"] == "4500000"
    assert by_number[3]["budgetDkk"] is None and by_number[4]["budgetDkk"] is None  # not stated: never invented
    assert by_number[1]["period"] == {"start": "2016-01-01", "end": "2018-12-31"}


def test_a_submission_reaches_evaluation_in_one_trace(platform, otlp):
    trace_id = os.urandom(16).hex()
    headers = {"traceparent": f"00-{trace_id}-{os.urandom(8).hex()}-01",
               **bearer("grant_officer", "ministry", subject="officer-e2e")}
    before = submitted_count(platform, 1)
    org = platform.graphql('mutation { registerOrganisation(orgId: "DK-CVR-20453044", name: "Ministry", '
                           'roles: [APPLICANT, KNOWLEDGE_INSTITUTION], '
                           f'requestId: "{os.urandom(8).hex()}") {{ id }} }}')
    assert "errors" not in org, org
    draft = platform.graphql("""mutation($d: String!, $rid: String!) { draftGrantApplication(
        poolCode: "digital-outreach-pool", applicantId: "DK-CVR-20453044", knowledgePartnerId: "DK-CVR-20453044",
        title: "Chat outreach", description: $d, requestedOre: 25000000, start: "2016-03-01", end: "2017-12-31",
        requestId: $rid) { id state } }""", {"d": "Outreach on messaging platforms", "rid": os.urandom(8).hex()})
    app_id = draft["data"]["draftGrantApplication"]["id"]
    submitted = platform.graphql(f'mutation {{ submitGrantApplication(applicationId: "{app_id}", '
                                 f'requestId: "{os.urandom(8).hex()}") {{ state }} }}', headers=headers)
    assert submitted["data"]["submitGrantApplication"]["state"] == "submitted"

    eventually(lambda: submitted_count(platform, 1) == before + 1, 30, what="evaluation counting the submission")

    def consumer_span_in_trace():
        spans = otlp.in_trace(trace_id)
        names = {(s["service"], s["name"]) for s in spans}
        assert ("actionplan-evaluation", "evaluation.on_grants_application") in names, names
        return spans
    spans = eventually(consumer_span_in_trace, 30, what="the consumer's span in the gateway request's trace")
    services = {s["service"] for s in spans}
    assert {"actionplan-gateway", "actionplan-grants", "actionplan-grants-relay", "actionplan-evaluation"} <= services
