"""The outreach part of the gateway's schema, without any service: every mutation requires the client's requestId;
lists are connections bounded by ``first``; a follow-up code is answered by recordContact only and a venue's address
by venueAddress only; arguments reach the service as plain JSON with the caller as actor; the resolved venues,
visits, tasks and contacts are data subjects of the access log."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from graphql import (GraphQLInputObjectType, GraphQLList, GraphQLNonNull, GraphQLObjectType, build_schema as build_sdl,
                     get_named_type)

from gateway.audit import SubjectMiddleware
from gateway.limits import Limits
from gateway.outreach import MAX_PAGE, OutreachMutation, OutreachQuery
from gateway.schema import build_schema
from kit.policy import policy
from tools.contracts import SDL

SCHEMA = build_schema()
GRAPHQL = SCHEMA.graphql_schema
WORKER = SimpleNamespace(subject="u-worker-1", role="outreach_worker", organisation="cmm", region=None)
CODE = "FU-7K3M-Q9XZ-2B4D"


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


OUTREACH_QUERIES = sorted(camel(n) for n in OutreachQuery._meta.fields)
OUTREACH_MUTATIONS = sorted(camel(n) for n in OutreachMutation._meta.fields)
SPEC_QUERIES = {"outreachReference", "venues", "venue", "venueAddress", "venueConcern", "visitPlan", "visits", "visit",
                "outreachTasks", "outreachTask", "followUp", "outreachActivity"}
SPEC_MUTATIONS = {"registerVenue", "linkClusterToVenue", "recordInspectionNote", "recordIdentification", "planVisit",
                  "recordVisit", "recordContact", "recordOutreachAttempt", "recordIdentificationTalk",
                  "withdrawFollowUpConsent", "closeOutreachTask", "runOutreachSweep"}


class FakeRpc:
    """Records each call; answers with ``answers[method]``."""

    def __init__(self, answers: dict | None = None) -> None:
        self.answers, self.calls = answers or {}, []

    async def call(self, service, method, principal=None, **kwargs):
        self.calls.append((service, method, kwargs))
        return self.answers[method]


def run(query: str, rpc: FakeRpc, variables: dict | None = None, principal=WORKER):
    context = {"rpc": rpc, "actor": principal.subject, "request": None, "principal": principal, "subjects": set()}
    result = asyncio.run(SCHEMA.execute_async(query, variable_values=variables, context_value=context,
                                              middleware=[SubjectMiddleware()]))
    return result, context["subjects"]


def code_of(result) -> str:
    assert result.errors, result
    return result.errors[0].extensions["code"]


def reachable_fields():
    """(type name, field name, field) of every object type in the served schema."""
    for name, type_ in GRAPHQL.type_map.items():
        if isinstance(type_, GraphQLObjectType) and not name.startswith("__"):
            for field_name, field in type_.fields.items():
                yield name, field_name, field


def referencing(type_name: str) -> set[str]:
    return {f"{owner}.{field_name}" for owner, field_name, field in reachable_fields()
            if get_named_type(field.type).name == type_name}


# -- the shape of the schema -------------------------------------------------------------------------------------------
def test_the_spec_s_root_fields_are_served_and_in_the_checked_in_sdl():
    assert set(OUTREACH_QUERIES) == SPEC_QUERIES and set(OUTREACH_MUTATIONS) == SPEC_MUTATIONS
    sdl = build_sdl(SDL.read_text())
    assert SPEC_QUERIES <= set(sdl.query_type.fields), "run python -m tools.contracts generate"
    assert SPEC_MUTATIONS <= set(sdl.mutation_type.fields), "run python -m tools.contracts generate"


@pytest.mark.parametrize("name", sorted(SPEC_MUTATIONS))
def test_every_outreach_mutation_requires_a_request_id(name):
    argument = GRAPHQL.mutation_type.fields[name].args.get("requestId")
    assert argument is not None and str(argument.type) == "String!"
    assert "retry" in argument.description.lower() and "same" in argument.description


def test_a_mutation_without_request_id_is_refused_before_any_call():
    rpc = FakeRpc()
    result, _ = run('mutation { registerVenue(kind: BROTHEL, label: "Villa", municipality: "101") { venueId } }', rpc)
    assert result.errors and "requestId" in result.errors[0].message
    assert rpc.calls == []


@pytest.mark.parametrize("name", sorted(SPEC_QUERIES | SPEC_MUTATIONS))
def test_every_outreach_root_field_has_a_policy_entry_naming_the_outreach_method_it_calls(name):
    root = "Query" if name in SPEC_QUERIES else "Mutation"
    entry = policy().operations[f"{root}.{name}"]
    assert entry.calls and all(c.startswith("outreach.") for c in entry.calls)
    assert not entry.public


def test_evaluators_reach_aggregates_and_reference_data_only():
    evaluator = SimpleNamespace(subject="u-e", role="evaluator", organisation="some-institute", region=None)
    allowed = {n for n in SPEC_QUERIES | SPEC_MUTATIONS
               if policy().decide(evaluator, f"{'Query' if n in SPEC_QUERIES else 'Mutation'}.{n}").allowed}
    assert allowed == {"outreachReference", "outreachActivity"}


def connection_fields():
    for name in sorted(SPEC_QUERIES):
        field = GRAPHQL.query_type.fields[name]
        if get_named_type(field.type).name.endswith("Connection"):
            yield name, field


def test_no_outreach_root_field_answers_an_unbounded_list():
    for name in sorted(SPEC_QUERIES | SPEC_MUTATIONS):
        root = GRAPHQL.query_type if name in SPEC_QUERIES else GRAPHQL.mutation_type
        type_ = root.fields[name].type
        type_ = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        assert not isinstance(type_, GraphQLList), f"{name} answers a bare list: make it a connection"
    assert {n for n, _ in connection_fields()} == {"venues", "visitPlan", "visits", "outreachTasks"}


@pytest.mark.parametrize("name, field", list(connection_fields()))
def test_connections_are_relay_style_and_bounded_by_first(name, field):
    first = field.args["first"]
    assert str(first.type) == "Int" and 1 <= first.default_value <= MAX_PAGE <= Limits().max_list
    assert str(field.args["after"].type) == "String"
    connection = get_named_type(field.type)
    assert set(connection.fields) == {"edges", "pageInfo", "totalCount"}
    edge = get_named_type(connection.fields["edges"].type)
    assert set(edge.fields) == {"cursor", "node"}
    assert set(get_named_type(connection.fields["pageInfo"].type).fields) == {"hasNextPage", "endCursor"}


@pytest.mark.parametrize("first", [0, -1, MAX_PAGE + 1])
@pytest.mark.parametrize("name", ["venues", "visitPlan", "visits", "outreachTasks"])
def test_a_page_size_out_of_bounds_is_refused_before_any_call(name, first):
    rpc = FakeRpc()
    result, _ = run(f"{{ {name}(first: {first}) {{ totalCount }} }}", rpc)
    assert code_of(result) == "invalid_input" and result.errors[0].extensions["field"] == "first"
    assert rpc.calls == []


def test_no_field_answers_a_follow_up_code_except_record_contacts_answer():
    found = {f"{owner}.{name}" for owner, name, _ in reachable_fields() if "followupcode" in name.lower()}
    assert found == {"ContactRecorded.followUpCode"}
    assert referencing("ContactRecorded") == {"Mutation.recordContact"}


def test_the_address_is_answered_by_venue_address_only():
    found = {f"{owner}.{name}" for owner, name, _ in reachable_fields() if "address" in name.lower()}
    assert found == {"VenueAddress.address", "Venue.hasAddress", "Query.venueAddress"}
    assert referencing("VenueAddress") == {"Query.venueAddress"}


def test_nothing_answers_message_contents_or_notes():
    outreach_types = {get_named_type(f.type).name for n, f in GRAPHQL.query_type.fields.items() if n in SPEC_QUERIES}
    outreach_types |= {get_named_type(f.type).name for n, f in GRAPHQL.mutation_type.fields.items()
                       if n in SPEC_MUTATIONS}
    seen, stack = set(), list(outreach_types)
    while stack:
        type_ = GRAPHQL.type_map[stack.pop()]
        if type_.name in seen or not isinstance(type_, GraphQLObjectType):
            continue
        seen.add(type_.name)
        for name, field in type_.fields.items():
            assert name not in {"message", "content", "text", "note", "body", "name_of_person"}, f"{type_}.{name}"
            stack.append(get_named_type(field.type).name)


def test_inputs_are_the_spec_s():
    assert set(GRAPHQL.type_map["PeopleMetInput"].fields) == {"languageGroup", "count"}
    funding = GRAPHQL.type_map["FundingInput"]
    assert isinstance(funding, GraphQLInputObjectType) and set(funding.fields) == {"kind", "id"}
    assert set(get_named_type(funding.fields["kind"].type).values) == {"GRANT", "BUDGET"}
    assert set(GRAPHQL.type_map["FollowUpConsentInput"].fields) == {"scope"}


# -- forwarding --------------------------------------------------------------------------------------------------------
VENUE = {"venue_id": "ven-0123456789abcdef", "kind": "brothel", "label": "Villa Rosa", "municipality": "101",
         "municipality_name": "København", "region": "hovedstaden", "organisation": "cmm",
         "registered_on": "2016-05-01", "has_address": True, "linked_clusters": ["cl-00000000000000aa"],
         "concern": {"score": 6.5, "level": "medium", "of_concern": True, "ruleset_version": "1.0.0",
                     "computed_on": "2016-05-02"},
         "next_visit": {"visit_id": "vis-00000000000000a1", "due_on": "2016-05-16", "team_id": "cmm-outreach",
                        "state": "planned"}, "last_visited_on": "2016-05-02"}

RECORD_VISIT = """mutation($people: [PeopleMetInput!]!, $rid: String!) {
  recordVisit(venueId: "ven-0123456789abcdef", teamId: "cmm-outreach", visitedOn: "2016-05-02", peopleMet: $people,
              materials: ["condoms"], healthServices: ["sti_testing"], identificationTalk: OFFERED,
              indicators: ["debt_to_third_party"], followUpNeeded: true,
              funding: {kind: BUDGET, id: "cmm-own-budget"}, requestId: $rid) {
    visitId state visitedOn record { peopleMet { languageGroup count } peopleMetTotal identificationTalk }
    funding { kind id } nextVisit { visitId dueOn state } } }"""


def test_record_visit_forwards_plain_json_with_the_caller_as_actor_and_the_clients_request_id():
    answer = {"visit_id": "vis-00000000000000a0", "venue_id": VENUE["venue_id"], "team_id": "cmm-outreach",
              "organisation": "cmm", "region": "hovedstaden", "state": "done", "due_on": None, "cause": "planned",
              "visited_on": "2016-05-02",
              "record": {"people_met": {"ro": 3, "th": 1}, "people_met_total": 4, "materials": ["condoms"],
                         "health_services": ["sti_testing"], "identification_talk": "offered",
                         "indicators": ["debt_to_third_party"], "screening_outcome": None, "follow_up_needed": True},
              "funding": {"kind": "budget", "id": "cmm-own-budget", "initiative": 3, "fund_code": None},
              "next_visit": VENUE["next_visit"]}
    rpc = FakeRpc({"record_visit": answer})
    result, subjects = run(RECORD_VISIT, rpc, {"people": [{"languageGroup": "ro", "count": 3},
                                                          {"languageGroup": "th", "count": 1}],
                                               "rid": "visit-key-0001"})
    assert not result.errors, result.errors
    (service, method, kwargs), = rpc.calls
    assert (service, method) == ("outreach", "record_visit")
    assert kwargs["actor"] == WORKER.subject and kwargs["request_id"] == "visit-key-0001"
    assert kwargs["people_met"] == [{"language_group": "ro", "count": 3}, {"language_group": "th", "count": 1}]
    assert kwargs["funding"] == {"kind": "budget", "id": "cmm-own-budget"}
    assert kwargs["identification_talk"] == "offered" and kwargs["visited_on"] == "2016-05-02"
    visit = result.data["recordVisit"]
    assert visit["record"]["peopleMet"] == [{"languageGroup": "ro", "count": 3}, {"languageGroup": "th", "count": 1}]
    assert visit["record"]["identificationTalk"] == "OFFERED" and visit["funding"] == {"kind": "BUDGET",
                                                                                        "id": "cmm-own-budget"}
    assert visit["nextVisit"] == {"visitId": "vis-00000000000000a1", "dueOn": "2016-05-16", "state": "PLANNED"}
    assert subjects == {("visit", "vis-00000000000000a0"), ("venue", VENUE["venue_id"]),
                        ("visit", "vis-00000000000000a1")}


def test_a_page_becomes_a_connection_and_each_venue_is_a_logged_subject():
    other = {**VENUE, "venue_id": "ven-fedcba9876543210", "label": "Studio 7"}
    page = {"items": [{**VENUE, "cursor": "c1"}, {**other, "cursor": "c2"}], "total": 5, "end_cursor": "c2",
            "has_next_page": True}
    rpc = FakeRpc({"venues": page})
    result, subjects = run('{ venues(region: "hovedstaden", ofConcern: true, first: 2, after: "c0") { totalCount '
                           'pageInfo { hasNextPage endCursor } edges { cursor node { kind concern { level } } } } }',
                           rpc)
    assert not result.errors, result.errors
    assert rpc.calls[0][2] == {"region": "hovedstaden", "of_concern": True, "first": 2, "after": "c0"}
    assert result.data["venues"] == {"totalCount": 5, "pageInfo": {"hasNextPage": True, "endCursor": "c2"},
                                     "edges": [{"cursor": "c1", "node": {"kind": "BROTHEL",
                                                                         "concern": {"level": "medium"}}},
                                               {"cursor": "c2", "node": {"kind": "BROTHEL",
                                                                         "concern": {"level": "medium"}}}]}
    # the label was not even selected: the rows still name both venues
    assert {("venue", VENUE["venue_id"]), ("venue", other["venue_id"])} <= subjects


def test_the_default_page_size_is_forwarded():
    rpc = FakeRpc({"tasks": {"items": [], "total": 0, "end_cursor": None, "has_next_page": False}})
    result, subjects = run("{ outreachTasks(state: OPEN) { totalCount edges { node { taskId } } } }", rpc)
    assert not result.errors and result.data["outreachTasks"] == {"totalCount": 0, "edges": []}
    assert rpc.calls[0][2] == {"state": "open", "first": 20} and subjects == set()


def test_the_address_and_the_concern_explanation_name_their_venue():
    rpc = FakeRpc({"venue_address": {"venue_id": VENUE["venue_id"], "address": "Istedgade 1"},
                   "venue_concern": {"venue_id": VENUE["venue_id"], "score": 6.5, "level": "medium",
                                     "of_concern": True, "ruleset_version": "1.0.0", "computed_on": "2016-05-02",
                                     "thresholds": [["high", 10.0], ["medium", 5.0], ["low", 2.0]],
                                     "of_concern_from": "medium",
                                     "signals": [{"kind": "visit_indicators", "source_id": "vis-00000000000000a0",
                                                  "on": "2016-05-02", "weight": 1.5, "decayed_weight": 1.5,
                                                  "half_life_days": 60, "detail": "1 indicator(s)"}]}})
    result, subjects = run(f'{{ venueAddress(venueId: "{VENUE["venue_id"]}") {{ address }} '
                           f'venueConcern(venueId: "{VENUE["venue_id"]}") {{ rulesetVersion thresholds {{ level '
                           'threshold } signals { kind sourceId on decayedWeight halfLifeDays } } }', rpc)
    assert not result.errors, result.errors
    assert result.data["venueAddress"] == {"address": "Istedgade 1"}
    assert result.data["venueConcern"]["thresholds"][1] == {"level": "medium", "threshold": 5.0}
    assert result.data["venueConcern"]["signals"][0]["on"] == "2016-05-02"
    assert subjects == {("venue", VENUE["venue_id"])}


CONTACT = """mutation($rid: String!) { recordContact(channel: VISIT, occurredOn: "2016-05-02",
  outcome: CONVERSATION_HELD, funding: {kind: BUDGET, id: "cmm-own-budget"}, venueId: "ven-0123456789abcdef",
  languageGroup: "ro", followUpConsent: {scope: ["follow_up_contact"]}, requestId: $rid) {
  contactId reached followUpLinked followUpCode } }"""


def test_record_contact_answers_a_new_code_once_and_the_code_is_no_logged_subject():
    rpc = FakeRpc({"record_contact": {"contact_id": "con-00000000000000c1", "channel": "visit",
                                      "outcome": "conversation_held", "reached": True, "occurred_on": "2016-05-02",
                                      "venue_id": VENUE["venue_id"], "visit_id": None, "task_id": None,
                                      "follow_up_linked": True, "follow_up_code": CODE}})
    result, subjects = run(CONTACT, rpc, {"rid": "contact-key-01"})
    assert not result.errors, result.errors
    assert result.data["recordContact"]["followUpCode"] == CODE
    assert rpc.calls[0][2]["follow_up_consent"] == {"scope": ["follow_up_contact"]}
    assert rpc.calls[0][2]["channel"] == "visit" and rpc.calls[0][2]["outcome"] == "conversation_held"
    assert subjects == {("contact", "con-00000000000000c1"), ("venue", VENUE["venue_id"])}
    assert CODE not in repr(subjects)


def test_a_follow_up_read_logs_its_contacts_never_the_code():
    rpc = FakeRpc({"follow_up": {"follow_up_id": "fu-00000000000000f1",
                                 "consent": {"scope": ["follow_up_contact"], "given_on": "2016-05-02",
                                             "withdrawn_on": None},
                                 "contacts": [{"contact_id": "con-00000000000000c1", "channel": "sms",
                                               "occurred_on": "2016-05-03", "outcome": "information_given",
                                               "venue_id": None, "task_id": "ot-00000000000000aa"}]}})
    result, subjects = run('query($code: String!) { followUp(followUpCode: $code) { consent { scope givenOn } '
                           'contacts { channel outcome } } }', rpc, {"code": CODE})
    assert not result.errors, result.errors
    assert result.data["followUp"]["contacts"] == [{"channel": "sms", "outcome": "information_given"}]
    assert rpc.calls[0][2] == {"follow_up_code": CODE}
    assert subjects == {("follow_up", "fu-00000000000000f1"), ("contact", "con-00000000000000c1"),
                        ("outreach_task", "ot-00000000000000aa")}


def test_an_attempt_forwards_its_time_and_answers_the_task():
    task = {"task_id": "ot-00000000000000aa", "cluster_id": "cl-00000000000000aa", "state": "in_progress",
            "priority": "high", "score": 8.5, "ruleset_version": "1.0.0", "ad_keys": ["dkescort.example/1"],
            "ad_count": 1, "cities": ["odense"], "regions": ["syddanmark"], "opened_at": "2016-05-01T10:00:00+00:00",
            "updated_at": "2016-05-02T10:00:00+00:00",
            "attempts": [{"contact_id": "con-00000000000000c2", "channel": "sms", "at": "2016-05-02T09:30:00+00:00",
                          "outcome": "identification_talk_agreed", "reached": True, "organisation": "cmm"}],
            "closed_reason": None}
    rpc = FakeRpc({"record_attempt": task})
    result, subjects = run('mutation { recordOutreachAttempt(taskId: "ot-00000000000000aa", channel: SMS, '
                           'at: "2016-05-02T09:30:00+00:00", outcome: IDENTIFICATION_TALK_AGREED, '
                           'funding: {kind: GRANT, id: "app-1"}, requestId: "attempt-key-1") { state priority '
                           'rulesetVersion attempts { outcome reached } } }', rpc)
    assert not result.errors, result.errors
    kwargs = rpc.calls[0][2]
    assert kwargs["at"] == "2016-05-02T09:30:00+00:00" and kwargs["funding"] == {"kind": "grant", "id": "app-1"}
    assert kwargs["channel"] == "sms" and kwargs["outcome"] == "identification_talk_agreed"
    assert result.data["recordOutreachAttempt"] == {
        "state": "IN_PROGRESS", "priority": "HIGH", "rulesetVersion": "1.0.0",
        "attempts": [{"outcome": "IDENTIFICATION_TALK_AGREED", "reached": True}]}
    assert subjects == {("outreach_task", "ot-00000000000000aa"), ("cluster", "cl-00000000000000aa"),
                        ("contact", "con-00000000000000c2")}


def test_the_reference_data_and_the_aggregates_name_no_subject():
    reference = {"regions": [{"id": "sjaelland", "code": "1085", "name_da": "Region Sjælland",
                              "name_en": "Region Zealand"}],
                 "municipalities": [{"code": "265", "name": "Roskilde", "region": "sjaelland"}],
                 "teams": [{"id": "provest-zealand", "organisation": "provest", "name": "Pro Vest", "reach": "region",
                            "region": "sjaelland"}],
                 "budget_lines": [{"id": "cmm-own-budget", "organisation": "cmm", "initiative": 3, "title": "CMM"}],
                 "codes": {"venueKinds": [{"code": "brothel", "da": "Bordel", "en": "Brothel"}],
                           "reachedOutcomes": ["conversation_held"]},
                 "concern_rules": {"version": "1.0.0", "levels": [["high", 10.0]], "of_concern_from": "medium",
                                   "revisit_days": {"high": 7, "none": None}, "half_lives": {"cluster_linked": 90}}}
    activity = {"visits": [{"region": "sjaelland", "organisation": "provest", "month": "2016-05", "count": 2,
                            "people_met": 5}], "people_met_by_language": {"ro": 5},
                "contacts": [{"channel": "visit", "outcome": "conversation_held", "count": 2}],
                "identification_talks": 1, "venues_of_concern": [{"region": "sjaelland", "count": 1}],
                "tasks": {"open": 1, "in_progress": 0, "closed": 2}}
    rpc = FakeRpc({"reference": reference, "activity": activity})
    result, subjects = run('{ outreachReference { regions { id nameEn } teams { id reach } budgetLines { id } '
                           'codes { venueKinds { code en } reachedOutcomes { code } } concernRules { version '
                           'revisitDays { level days } halfLives { signal days } } } outreachActivity(fromOn: '
                           '"2016-01-01") { peopleMetByLanguage { languageGroup count } identificationTalks '
                           'tasks { open inProgress closed } } }', rpc)
    assert not result.errors, result.errors
    data = result.data
    assert data["outreachReference"]["regions"] == [{"id": "sjaelland", "nameEn": "Region Zealand"}]
    assert data["outreachReference"]["codes"]["venueKinds"] == [{"code": "brothel", "en": "Brothel"}]
    assert data["outreachReference"]["concernRules"]["revisitDays"] == [{"level": "high", "days": 7},
                                                                        {"level": "none", "days": None}]
    assert data["outreachActivity"]["peopleMetByLanguage"] == [{"languageGroup": "ro", "count": 5}]
    assert subjects == set()
    assert rpc.calls[1][2] == {"from_on": "2016-01-01"}
