"""The BOLA matrix, generated from the SDL: every query and mutation of schemas/graphql/schema.graphql × every role
of the access policy × its own and a foreign organisation, through a real gateway and real services.

The expected answer of each case is the policy file's decision (kit.policy): a denied case must answer
``unauthenticated`` (anonymous) or ``forbidden`` with no data and nothing about the data in the message; an allowed
case must not be refused (it may still fail validation or a domain rule with another code: the arguments are
generated from the SDL types, minimal but mostly valid). Where the policy scopes a role to its own organisation, the
foreign organisation's case must get nothing of the fixture's data (null, an empty list or a not-found code) and the
own organisation's case must see it. A root field without a policy entry fails the matrix.
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    build_schema,
    get_named_type,
)
from graphql.pyutils import Undefined

from deploy.local.stack import ROOT
from kit.policy import OWN_ORGANISATION, OWN_REGION, Decision, policy
from kit.principal import Principal
from tests.support.graphql import ok, request_id
from tests.support.platform import running
from tests.support.waiting import eventually

pytestmark = pytest.mark.stack

SDL = Path(ROOT) / "schemas" / "graphql" / "schema.graphql"
OWN_ORG, FOREIGN_ORG, UNIVERSITY = "DK-CVR-10000009", "DK-CVR-13703701", "DK-CVR-11234569"
FOREIGN_STAFF_ORG = "elsewhere"  # an organisation that holds none of the roles restricted to organisations
POOL = "digital-outreach-pool"
REFUSALS = {"forbidden", "unauthenticated"}
NOT_FOUND = {"unknown_application", "unknown_organisation", "unknown_grant", "unknown_ad", "unknown_cluster",
             "unknown_venue", "unknown_visit", "unknown_task", "unknown_follow_up"}
# own_organisation-scoped reads whose own case must see the fixture's data
MUST_SEE_OWN = {"Query.application", "Query.applications", "Query.grant", "Query.organisation", "Query.organisations"}
# own_region-scoped reads of one record: a caller held to another region than the fixture's (a Pro Vest worker in
# Region Zealand; the fixture's venue is in Copenhagen) gets null and a not-found code, as for an id that never existed
REGION_HIDES = {"Query.venue", "Query.venueAddress", "Query.venueConcern", "Query.visit"}
OUTREACH_IDS = ("venueId", "visitId", "taskId", "contactId")  # selected where a type has no id of its own
ROOTS = ("Query", "Mutation")
# service accounts that exist only inside the platform (gateway.auth never accepts them)
EDGE_REFUSES = {"gateway", "outreach_service"}
TOTALS = {"cases": 0, "denied": 0, "allowed": 0, "scoped": 0, "regional": 0, "fields": 0}


def sdl_schema():
    return build_schema(SDL.read_text(encoding="utf-8"))


def root_fields() -> list[str]:
    schema = sdl_schema()
    return [f"{root}.{name}" for root in ROOTS
            for name in (getattr(schema, f"{root.lower()}_type").fields if getattr(schema, f"{root.lower()}_type")
                         else ())]


def principals() -> list[tuple[str, str | None, str]]:
    """(role, organisation, variant) for every role: its own organisation(s) and a foreign one."""
    found = []
    for role in policy().roles.values():
        if role.kind == "anonymous":
            found.append((role.id, None, "none"))
        elif role.organisations is not None:
            found += [(role.id, org, "own") for org in sorted(role.organisations)]
            found.append((role.id, FOREIGN_STAFF_ORG, "foreign"))
        else:
            found += [(role.id, OWN_ORG, "own"), (role.id, FOREIGN_ORG, "foreign")]
    return found


# -- minimal arguments from the SDL types --------------------------------------------------------------------------
def value_for(name: str, type_, fixture: dict):
    named = get_named_type(type_)
    if name in fixture and not (isinstance(named, GraphQLEnumType) and fixture[name] not in named.values):
        return fixture[name]
    if isinstance(type_, GraphQLNonNull):
        return value_for(name, type_.of_type, fixture)
    if isinstance(type_, GraphQLList):
        return [value_for(name, type_.of_type, fixture)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))  # (a fixture value of the same name that is no value of it is skipped above)
    if isinstance(type_, GraphQLInputObjectType):
        return {n: value_for(n, f.type, fixture) for n, f in type_.fields.items()
                if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined}
    scalar = type_.name if isinstance(type_, GraphQLScalarType) else "String"
    return {"Int": 1, "Float": 1.0, "Boolean": True, "Date": "2016-03-01", "Ore": 100, "Decimal": "1"}.get(scalar, "x")


def operation_for(operation: str, fixture: dict) -> tuple[str, dict]:
    root, name = operation.split(".")
    schema = sdl_schema()
    field = getattr(schema, f"{root.lower()}_type").fields[name]
    declared, passed, variables = [], [], {}
    for i, (arg_name, arg) in enumerate(field.args.items()):
        if not isinstance(arg.type, GraphQLNonNull) or arg.default_value is not Undefined:
            continue
        value = request_id() if arg_name == "requestId" else value_for(arg_name, arg.type, fixture)
        declared.append(f"$a{i}: {arg.type}")
        passed.append(f"{arg_name}: $a{i}")
        variables[f"a{i}"] = value
    named = get_named_type(field.type)
    selection = ""
    if isinstance(named, GraphQLObjectType):  # the ids it answers tell whose data came back
        ids = ["id"] if "id" in named.fields else [n for n in OUTREACH_IDS if n in named.fields]
        if not ids and {"edges", "totalCount"} <= set(named.fields):  # a connection: how many it holds
            ids = ["totalCount"]
        selection = " { " + " ".join(["__typename", *ids]) + " }"
    head = f"{root.lower()}({', '.join(declared)})" if declared else root.lower()
    call = f"{name}({', '.join(passed)})" if passed else name
    return f"{head} {{ {call}{selection} }}", variables


# -- the platform and its fixture data -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def platform(infra, otlp):
    with running(infra, otlp, "bola", {"grants": {}, "evaluation": {},
                                       "ad_triage": {"AD_TRIAGE_RULESET_VERSION": "1.0.0"}, "outreach": {}},
                 relays=("ad_triage", "outreach")) as platform:
        yield platform


@pytest.fixture(scope="module")
def fixture(platform) -> dict:
    """Data owned by OWN_ORG (an applicant) that every case's arguments point at."""
    officer = ("grant_officer", "ministry")
    for org, roles in ((OWN_ORG, "APPLICANT"), (FOREIGN_ORG, "APPLICANT"), (UNIVERSITY, "KNOWLEDGE_INSTITUTION")):
        ok(platform.graphql(f'mutation($rid: String!) {{ registerOrganisation(orgId: "{org}", name: "Org {org[-4:]}", '
                            f'roles: [{roles}], requestId: $rid) {{ id }} }}', {"rid": request_id()}, as_=officer),
           "registerOrganisation")
    app = ok(platform.graphql(
        f'mutation($rid: String!) {{ draftGrantApplication(poolCode: "{POOL}", applicantId: "{OWN_ORG}", '
        f'knowledgePartnerId: "{UNIVERSITY}", title: "Outreach", description: "Methods", requestedOre: 1000000, '
        'start: "2016-03-01", end: "2017-12-31", requestId: $rid) { id } }', {"rid": request_id()}, as_=officer),
        "draftGrantApplication")["id"]
    # Query.grant answers only for grants: the fixture's application is awarded, so it is one
    for step in (f'submitGrantApplication(applicationId: "{app}"',
                 f'moveGrantApplication(applicationId: "{app}", move: START_ASSESSMENT',
                 f'awardGrantApplication(applicationId: "{app}", amountOre: 1000000, awardDate: "2016-04-01"'):
        field = step.split("(")[0]
        ok(platform.graphql(f'mutation($rid: String!) {{ {step}, requestId: $rid) {{ id }} }}',
                            {"rid": request_id()}, as_=officer), field)
    ad = {"platform": "dkescort.example", "adId": "bola-1", "url": "https://dkescort.example/annonce/bola-1",
          "firstSeen": "2016-05-01T10:00:00+00:00", "lastSeen": "2016-05-03T10:00:00+00:00", "title": "Anna",
          "text": "Sweet girl. Professional and discreet. Call me.", "language": "en", "location": "Odense",
          "contacts": [{"kind": "phone", "value": "+45 29 99 40 11"}]}
    submitted = platform.graphql('mutation($ad: AdInput!, $rid: String!) { submitAd(ad: $ad, requestId: $rid) '
                                 '{ status } }', {"ad": ad, "rid": request_id()}, as_=("ingest_connector", None))
    assert "errors" not in submitted, submitted
    return {"applicationId": app, "grantId": app, "fromGrantId": app, "toGrantId": app, "orgId": OWN_ORG,
            "applicantId": OWN_ORG, "knowledgePartnerId": UNIVERSITY, "poolCode": POOL,
            "adKey": "dkescort.example/bola-1", "ad": ad, "kind": "application", "id": app,
            "lines": [json.dumps({**ad, "adId": "bola-2", "url": "https://dkescort.example/annonce/bola-2"})],
            **outreach_fixture(platform)}


CMM_WORKER = ("outreach_worker", "cmm")
BUDGET = {"kind": "BUDGET", "id": "cmm-own-budget"}


def outreach_fixture(platform) -> dict:
    """A venue in Copenhagen registered by a CMM outreach worker, a visit to it funded by CMM's budget line, an
    anonymous contact with follow-up consent (its code), and a digital outreach task when a flagged ad opens one."""
    from datetime import date
    today = date.today().isoformat()
    venue = ok(platform.graphql(
        'mutation($rid: String!) { registerVenue(kind: BROTHEL, label: "BOLA venue", municipality: "101", '
        'address: "Vesterbrogade 1", requestId: $rid) { venueId region } }', {"rid": request_id()}, as_=CMM_WORKER),
        "registerVenue")
    assert venue["region"] == "hovedstaden"
    visit = ok(platform.graphql(
        'mutation($v: ID!, $day: Date!, $f: FundingInput!, $rid: String!) { recordVisit(venueId: $v, '
        'teamId: "cmm-outreach", visitedOn: $day, peopleMet: [{languageGroup: "ro", count: 2}], materials: '
        '["condoms"], healthServices: ["sti_testing"], identificationTalk: OFFERED, indicators: '
        '["debt_to_third_party"], followUpNeeded: true, funding: $f, requestId: $rid) { visitId } }',
        {"v": venue["venueId"], "day": today, "f": BUDGET, "rid": request_id()}, as_=CMM_WORKER), "recordVisit")
    contact = ok(platform.graphql(
        'mutation($v: ID!, $day: Date!, $f: FundingInput!, $rid: String!) { recordContact(channel: VISIT, '
        'occurredOn: $day, outcome: CONVERSATION_HELD, funding: $f, venueId: $v, followUpConsent: '
        '{scope: ["follow_up_contact"]}, requestId: $rid) { contactId followUpCode } }',
        {"v": venue["venueId"], "day": today, "f": BUDGET, "rid": request_id()}, as_=CMM_WORKER), "recordContact")
    # a flagged ad (a high-scoring one, in Odense) opens a task once ad triage's relay and outreach's consumer ran
    flagged = {"platform": "dkescort.example", "adId": "bola-flag", "url": "https://dkescort.example/annonce/bola-flag",
               "firstSeen": "2016-05-01T10:00:00+00:00", "lastSeen": "2016-05-03T10:00:00+00:00",
               "title": "Sweet Thai girl", "text": "Sweet Thai girl. Young girl, just turned 18. New in town, leaving "
               "soon. Professional, safe and discreet. 100% real photos.", "language": "en", "location": "Odense",
               "contacts": [{"kind": "phone", "value": "+45 29 99 44 17"}]}
    platform.graphql('mutation($ad: AdInput!, $rid: String!) { submitAd(ad: $ad, requestId: $rid) { status } }',
                     {"ad": flagged, "rid": request_id()}, as_=("ingest_connector", None))

    def task():
        page = platform.graphql("{ outreachTasks(first: 5) { edges { node { taskId clusterId } } } }",
                                as_=("caseworker", "cmm"))
        edges = ((page.get("data") or {}).get("outreachTasks") or {}).get("edges") or []
        return edges[0]["node"] if edges else None
    try:
        found = eventually(task, 30, 0.5, "an outreach task from the flagged ad")
    except AssertionError:  # no task (the ad was not flagged): task arguments then point at nothing
        found = {"taskId": "ot-0000000000000000", "clusterId": "cl-0000000000000000"}
    return {"venueId": venue["venueId"], "visitId": visit["visitId"], "contactId": contact["contactId"],
            "followUpCode": contact["followUpCode"], "taskId": found["taskId"], "clusterId": found["clusterId"],
            "teamId": "cmm-outreach", "municipality": "101", "label": "BOLA venue 2", "funding": BUDGET,
            "peopleMet": [{"languageGroup": "ro", "count": 1}], "materials": ["condoms"],
            "healthServices": ["sti_testing"], "indicators": ["debt_to_third_party"], "agencies": ["police"],
            "finding": "concerns", "channel": "SMS", "reason": "NOT_RELEVANT", "on": date.today().isoformat(),
            "visitedOn": today, "occurredOn": today, "heldOn": today, "dueOn": today,
            "at": f"{today}T00:00:00+00:00"}


def test_every_root_field_of_the_sdl_has_a_policy_entry_and_the_sdl_is_the_gateways():
    from gateway.schema import build_schema as gateway_schema
    served = gateway_schema().graphql_schema
    sdl = sdl_schema()
    for root in ("Query", "Mutation", "Subscription"):
        ours, theirs = getattr(sdl, f"{root.lower()}_type"), getattr(served, f"{root.lower()}_type")
        assert set(ours.fields if ours else ()) == set(theirs.fields if theirs else ()), \
            f"{SDL} is not the gateway's schema: run python -m tools.contracts generate"
        missing = [f"{root}.{n}" for n in (ours.fields if ours else ()) if f"{root}.{n}" not in policy().operations]
        assert not missing, f"root fields without a policy entry (deny by default, add one): {missing}"


def refusal_codes(result: dict, field: str) -> set[str]:
    return {(e.get("extensions") or {}).get("code") for e in result.get("errors") or ()
            if not e.get("path") or e["path"][0] == field}


@pytest.mark.parametrize("operation", root_fields())
def test_each_role_gets_exactly_what_the_policy_says(platform, fixture, operation):
    assert operation in policy().operations, f"{operation} has no policy entry (deny by default: add one)"
    field = operation.split(".")[1]
    problems = []
    TOTALS["fields"] += 1
    for role, org, variant in principals():
        decision = policy().decide(Principal(f"bola-{role}", role, org), operation)
        if role in EDGE_REFUSES:  # the gateway's own account: no token may carry it, so the edge refuses it all
            decision = Decision(False, reason="not a token role")
        query, variables = operation_for(operation, fixture)
        result = platform.graphql(query, variables, as_=(role, org) if role != "anonymous" else ())
        codes = refusal_codes(result, field)
        data = (result.get("data") or {}).get(field) if isinstance(result.get("data"), dict) else None
        case = f"{operation} as {role}/{org} ({variant})"
        TOTALS["cases"] += 1
        if not decision.allowed:
            TOTALS["denied"] += 1
            expected = {"unauthenticated"} if role == "anonymous" else REFUSALS
            if not codes & expected or data is not None:
                problems.append(f"{case}: expected a refusal, got {codes or 'no error'} {str(data)[:80]}")
            leaked = [v for v in (fixture["applicationId"], OWN_ORG) if v in json.dumps(result.get("errors"))]
            if leaked:
                problems.append(f"{case}: the refusal mentions {leaked}")
            continue
        TOTALS["allowed"] += 1
        if codes & REFUSALS:
            problems.append(f"{case}: allowed by the policy but refused with {codes}")
            continue
        if decision.scope == OWN_REGION and decision.region is not None:
            TOTALS["regional"] += 1
            theirs = [v for v in (fixture["venueId"], fixture["visitId"]) if v in json.dumps(data)]
            if theirs:
                problems.append(f"{case}: a record outside its region answered: {str(data)[:80]}")
            if operation in REGION_HIDES and (data is not None or not codes & NOT_FOUND):
                problems.append(f"{case}: expected null and a not-found code, got {codes} {str(data)[:80]}")
            if isinstance(data, dict) and data.get("totalCount"):
                problems.append(f"{case}: {data['totalCount']} records outside its region counted")
        if decision.scope == OWN_ORGANISATION:
            TOTALS["scoped"] += 1
            theirs = [v for v in (fixture["applicationId"], OWN_ORG) if v in json.dumps(data)]
            if org != OWN_ORG and theirs:
                problems.append(f"{case}: another organisation's data answered: {str(data)[:80]}")
            if org == OWN_ORG and operation in MUST_SEE_OWN and data in (None, []):
                problems.append(f"{case}: its own organisation's data is missing ({result.get('errors')})")
    assert not problems, "\n".join(problems)


def test_matrix_size(capsys):
    roles = len(policy().roles)
    with capsys.disabled():
        print(f"\nBOLA matrix: {TOTALS['fields']} root fields x {roles} roles ({len(principals())} principals, own "
              f"and foreign organisation) = {TOTALS['cases']} cases: {TOTALS['denied']} denied, {TOTALS['allowed']} "
              f"allowed ({TOTALS['scoped']} scoped to the caller's organisation, {TOTALS['regional']} to its region)")
    assert TOTALS["cases"] == TOTALS["fields"] * len(principals()) and TOTALS["denied"] > 0


def test_an_applicant_reaches_its_own_application_and_not_another_organisations(platform, fixture):
    query = 'query($id: ID!) { application(applicationId: $id) { id applicantId } }'
    own = platform.graphql(query, {"id": fixture["applicationId"]}, as_=("applicant", OWN_ORG))
    assert ok(own, "application") == {"id": fixture["applicationId"], "applicantId": OWN_ORG}
    foreign = platform.graphql(query, {"id": fixture["applicationId"]}, as_=("applicant", FOREIGN_ORG))
    missing = platform.graphql(query, {"id": "app-" + uuid.uuid4().hex}, as_=("applicant", FOREIGN_ORG))
    assert foreign == missing == {"data": {"application": None}}  # no oracle: as if it did not exist
    listed = ok(platform.graphql(f'{{ applications(applicantId: "{OWN_ORG}") {{ id }} }}',
                                 as_=("applicant", FOREIGN_ORG)), "applications")
    assert listed == []
    drafted = platform.graphql(
        f'mutation($rid: String!) {{ draftGrantApplication(poolCode: "{POOL}", applicantId: "{OWN_ORG}", '
        f'knowledgePartnerId: "{UNIVERSITY}", title: "Mine now", description: "x", requestedOre: 1000, '
        'start: "2016-03-01", end: "2017-12-31", requestId: $rid) { id } }', {"rid": request_id()},
        as_=("applicant", FOREIGN_ORG))
    assert drafted["errors"][0]["extensions"]["code"] == "unknown_organisation"
