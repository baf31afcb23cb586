"""GraphQL for the outreach service (initiatives 1 and 3): venues of concern and their explanations, the visit plan
and visits, anonymous contacts and follow-up, digital outreach tasks from flagged ad clusters and their attempts.

Composed into the gateway's Query and Mutation (``gateway/schema.py``). Every resolver forwards to an RPC method of
the service named ``outreach`` (``services/outreach/service.py``), which checks the policy again and scopes its
answer: a record outside a region-bound caller's region answers as unknown (``unknown_venue``, ...), never as
forbidden, so the answer says nothing about it.

What this module guarantees on its own:

* a venue's address is answered by ``venueAddress`` only (``Venue`` carries ``hasAddress``); a follow-up code only
  by ``recordContact``, and only when that call issued it; no field returns a message's content (none is stored);
* every mutation takes the client's ``requestId`` (forwarded as ``request_id``) and the caller as ``actor`` from
  the request, never from arguments;
* lists are Relay-style connections whose size is bounded by ``first`` (1..``MAX_PAGE``, default
  ``DEFAULT_PAGE``), so a query's cost is bounded (``gateway/limits.py`` also caps ``first`` on the request);
* venues, visits, tasks and contacts are data subjects of the access log (``gateway/audit.py``,
  ``SUBJECT_TYPES``): every operation that resolves one writes a row naming it.
"""
from __future__ import annotations

from typing import Mapping

import graphene

from gateway.forward import request_id_argument
from gateway.paging import MAX_PAGE, PageInfo, answer_key, date_field, invalid, page_args, resolver  # noqa: F401

SERVICE = "outreach"


# -- helpers -----------------------------------------------------------------------------------------------------
_get, _date, _invalid, _page_args = answer_key, date_field, invalid, page_args


def _rpc(method: str, *, command: bool = False, paged: bool = False, rename=None):
    return resolver(SERVICE, method, command=command, paged=paged, rename=rename)


def _strings(**kwargs):
    return graphene.List(graphene.NonNull(graphene.String), **kwargs)


# -- enums (the fixed codes; coded lists that are data stay strings, checked by the service: unknown_code) ---------
class VenueKind(graphene.Enum):
    BROTHEL = "brothel"
    MASSAGE_CLINIC = "massage_clinic"
    PRIVATE_ADDRESS = "private_address"
    HOTEL = "hotel"
    ONLINE_ONLY = "online_only"


class IdentificationTalk(graphene.Enum):
    NONE = "none"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    HELD = "held"


class OutreachChannel(graphene.Enum):
    """How a digital outreach attempt was made (its content is never recorded)."""
    SMS = "sms"
    CALL = "call"
    CHAT = "chat"
    PLATFORM_MESSAGE = "platform_message"


class ContactChannel(graphene.Enum):
    """Where a contact happened: at a venue (visit) or digitally."""
    VISIT = "visit"
    SMS = "sms"
    CALL = "call"
    CHAT = "chat"
    PLATFORM_MESSAGE = "platform_message"


class OutreachOutcome(graphene.Enum):
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    DECLINED = "declined"
    CONVERSATION_HELD = "conversation_held"
    INFORMATION_GIVEN = "information_given"
    IDENTIFICATION_TALK_AGREED = "identification_talk_agreed"


class OutreachTaskState(graphene.Enum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    MERGED = "merged"


class OutreachPriority(graphene.Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"


class OutreachTaskCloseReason(graphene.Enum):
    IDENTIFICATION_TALK_AGREED = "identification_talk_agreed"
    UNREACHABLE = "unreachable"
    NOT_RELEVANT = "not_relevant"
    DUPLICATE = "duplicate"


class VisitState(graphene.Enum):
    PLANNED = "planned"
    OVERDUE = "overdue"
    DONE = "done"
    CANCELLED = "cancelled"


class FundingKind(graphene.Enum):
    GRANT = "grant"
    BUDGET = "budget"


# -- inputs --------------------------------------------------------------------------------------------------------
class PeopleMetInput(graphene.InputObjectType):
    language_group = graphene.String(required=True, description="ISO 639-1 code, other or unknown (no names)")
    count = graphene.Int(required=True)


class FundingInput(graphene.InputObjectType):
    kind = FundingKind(required=True)
    id = graphene.String(required=True, description="The grant's id, or the budget line's id (cmm-own-budget)")


class FollowUpConsentInput(graphene.InputObjectType):
    scope = _strings(required=True, description="Consent scope codes; follow_up_contact among them")


# -- reference data ------------------------------------------------------------------------------------------------
class OutreachCode(graphene.ObjectType):
    code = graphene.String(required=True)
    da = graphene.String()
    en = graphene.String()


def _codes(key: str):
    def resolve(parent, _info):
        found = _get(parent, key) or []
        return [c if isinstance(c, Mapping) else {"code": c} for c in found]
    return graphene.List(graphene.NonNull(OutreachCode), required=True, resolver=resolve)


class OutreachCodes(graphene.ObjectType):
    venue_kinds = _codes("venue_kinds")
    language_groups = _codes("language_groups")
    materials = _codes("materials")
    health_services = _codes("health_services")
    identification_talk = _codes("identification_talk")
    indicators = _codes("indicators")
    screening_outcomes = _codes("screening_outcomes")
    inspection_findings = _codes("inspection_findings")
    agencies = _codes("agencies")
    channels = _codes("channels")
    outcomes = _codes("outcomes")
    reached_outcomes = _codes("reached_outcomes")
    consent_scopes = _codes("consent_scopes")
    close_reasons = _codes("close_reasons")


class OutreachRegion(graphene.ObjectType):
    id = graphene.ID(required=True)
    code = graphene.String()
    name_da = graphene.String(resolver=lambda p, _i: _get(p, "name_da"))
    name_en = graphene.String(resolver=lambda p, _i: _get(p, "name_en"))


class Municipality(graphene.ObjectType):
    code = graphene.String(required=True)
    name = graphene.String(required=True)
    region = graphene.String(required=True)


class OutreachTeam(graphene.ObjectType):
    id = graphene.ID(required=True)
    organisation = graphene.String(required=True)
    name = graphene.String()
    reach = graphene.String(required=True, description="nationwide, or region (held to its region)")
    region = graphene.String()


class BudgetLine(graphene.ObjectType):
    id = graphene.ID(required=True)
    organisation = graphene.String(required=True)
    initiative = graphene.Int()
    title = graphene.String()


class ConcernThreshold(graphene.ObjectType):
    level = graphene.String(required=True)
    threshold = graphene.Float(required=True)


class RevisitInterval(graphene.ObjectType):
    level = graphene.String(required=True)
    days = graphene.Int(description="Null: no revisit planned at this level")


class SignalHalfLife(graphene.ObjectType):
    signal = graphene.String(required=True)
    days = graphene.Float()


def _thresholds(levels) -> list[dict]:
    return [{"level": pair[0], "threshold": pair[1]} if not isinstance(pair, Mapping) else dict(pair)
            for pair in levels or ()]


def _pairs(value, key: str, value_key: str) -> list[dict]:
    if isinstance(value, Mapping):
        return [{key: k, value_key: v} for k, v in value.items()]
    return list(value or ())


class ConcernRuleSet(graphene.ObjectType):
    version = graphene.String(required=True)
    levels = graphene.List(graphene.NonNull(ConcernThreshold), required=True,
                           resolver=lambda p, _i: _thresholds(_get(p, "levels")))
    of_concern_from = graphene.String(resolver=lambda p, _i: _get(p, "of_concern_from"))
    revisit_days = graphene.List(graphene.NonNull(RevisitInterval), required=True,
                                 resolver=lambda p, _i: _pairs(_get(p, "revisit_days"), "level", "days"))
    half_lives = graphene.List(graphene.NonNull(SignalHalfLife), required=True,
                               resolver=lambda p, _i: _pairs(_get(p, "half_lives"), "signal", "days"))


class OutreachReference(graphene.ObjectType):
    regions = graphene.List(graphene.NonNull(OutreachRegion), required=True)
    municipalities = graphene.List(graphene.NonNull(Municipality), required=True)
    teams = graphene.List(graphene.NonNull(OutreachTeam), required=True)
    budget_lines = graphene.List(graphene.NonNull(BudgetLine), required=True,
                                 resolver=lambda p, _i: _get(p, "budget_lines") or [])
    codes = graphene.Field(OutreachCodes, required=True, resolver=lambda p, _i: _get(p, "codes") or {})
    concern_rules = graphene.Field(ConcernRuleSet, resolver=lambda p, _i: _get(p, "concern_rules"))


# -- venues --------------------------------------------------------------------------------------------------------
class ConcernSummary(graphene.ObjectType):
    score = graphene.Float(required=True)
    level = graphene.String(required=True, description="high, medium, low or none")
    of_concern = graphene.Boolean(required=True)
    ruleset_version = graphene.String()
    computed_on = _date("computed_on")


class NextVisit(graphene.ObjectType):
    visit_id = graphene.ID(required=True)
    due_on = _date("due_on")
    team_id = graphene.String(required=True)
    state = VisitState(required=True)


class Venue(graphene.ObjectType):
    """A venue where outreach meets people (its address is read with venueAddress only)."""
    venue_id = graphene.ID(required=True)
    kind = VenueKind(required=True)
    label = graphene.String(required=True, description="The team's own name for the venue (access is logged)")
    municipality = graphene.String(required=True, description="Municipality code (geography data)")
    municipality_name = graphene.String()
    region = graphene.String(required=True)
    organisation = graphene.String(required=True, description="Who registered it")
    registered_on = _date("registered_on")
    has_address = graphene.Boolean(required=True)
    linked_clusters = _strings(required=True, resolver=lambda p, _i: _get(p, "linked_clusters") or [])
    concern = graphene.Field(ConcernSummary, required=True)
    next_visit = graphene.Field(NextVisit)
    last_visited_on = _date("last_visited_on")


class VenueEdge(graphene.ObjectType):
    cursor = graphene.String(required=True)
    node = graphene.Field(Venue, required=True)


class VenueConnection(graphene.ObjectType):
    edges = graphene.List(graphene.NonNull(VenueEdge), required=True)
    page_info = graphene.Field(PageInfo, required=True)
    total_count = graphene.Int(required=True)


class VenueAddress(graphene.ObjectType):
    venue_id = graphene.ID(required=True)
    address = graphene.String(description="Decrypted; null when none is kept (access is logged)")


class ConcernSignal(graphene.ObjectType):
    kind = graphene.String(required=True, description="cluster_linked, visit_indicators, screening_outcome, "
                                                      "inspection_note or identification")
    source_id = graphene.String(required=True)
    on = _date("on", required=True)
    weight = graphene.Float(required=True)
    decayed_weight = graphene.Float(required=True)
    half_life_days = graphene.Float(required=True)
    detail = graphene.String()


class VenueConcern(graphene.ObjectType):
    """The explanation of a venue's concern score: each contributing signal, decayed, and the rule-set version."""
    venue_id = graphene.ID(required=True)
    score = graphene.Float(required=True)
    level = graphene.String(required=True)
    of_concern = graphene.Boolean(required=True)
    ruleset_version = graphene.String()
    computed_on = _date("computed_on")
    thresholds = graphene.List(graphene.NonNull(ConcernThreshold), required=True,
                               resolver=lambda p, _i: _thresholds(_get(p, "thresholds")))
    of_concern_from = graphene.String()
    signals = graphene.List(graphene.NonNull(ConcernSignal), required=True)


# -- visits --------------------------------------------------------------------------------------------------------
class PeopleMet(graphene.ObjectType):
    language_group = graphene.String(required=True)
    count = graphene.Int(required=True)


def _people(value) -> list[dict]:
    if isinstance(value, Mapping):
        return [{"language_group": k, "count": v} for k, v in sorted(value.items())]
    return [{"language_group": _get(p, "language_group"), "count": _get(p, "count")} for p in value or ()]


class VisitRecord(graphene.ObjectType):
    """What a visit found: counts by language group (no names), codes, and whether follow-up is needed."""
    people_met = graphene.List(graphene.NonNull(PeopleMet), required=True,
                               resolver=lambda p, _i: _people(_get(p, "people_met")))
    people_met_total = graphene.Int(resolver=lambda p, _i: _get(p, "people_met_total") if _get(
        p, "people_met_total") is not None else sum(x["count"] or 0 for x in _people(_get(p, "people_met"))))
    materials = _strings(required=True, resolver=lambda p, _i: _get(p, "materials") or [])
    health_services = _strings(required=True, resolver=lambda p, _i: _get(p, "health_services") or [])
    identification_talk = IdentificationTalk(resolver=lambda p, _i: _get(p, "identification_talk"))
    indicators = _strings(required=True, resolver=lambda p, _i: _get(p, "indicators") or [])
    screening_outcome = graphene.String(resolver=lambda p, _i: _get(p, "screening_outcome"))
    follow_up_needed = graphene.Boolean(resolver=lambda p, _i: _get(p, "follow_up_needed"))


class OutreachFunding(graphene.ObjectType):
    kind = FundingKind(required=True)
    id = graphene.ID(required=True)
    initiative = graphene.Int()
    fund_code = graphene.String(resolver=lambda p, _i: _get(p, "fund_code"))


class Visit(graphene.ObjectType):
    visit_id = graphene.ID(required=True)
    venue_id = graphene.ID(required=True)
    team_id = graphene.String(required=True)
    organisation = graphene.String(required=True)
    region = graphene.String(required=True)
    state = VisitState(required=True)
    due_on = _date("due_on")
    cause = graphene.String(description="planned or revisit")
    visited_on = _date("visited_on")
    record = graphene.Field(VisitRecord)
    funding = graphene.Field(OutreachFunding)
    next_visit = graphene.Field(NextVisit, description="recordVisit: the revisit planned from the concern level")


class VisitEdge(graphene.ObjectType):
    cursor = graphene.String(required=True)
    node = graphene.Field(Visit, required=True)


class VisitConnection(graphene.ObjectType):
    edges = graphene.List(graphene.NonNull(VisitEdge), required=True)
    page_info = graphene.Field(PageInfo, required=True)
    total_count = graphene.Int(required=True)


# -- contacts and follow-up ------------------------------------------------------------------------------------------
class ContactRecorded(graphene.ObjectType):
    contact_id = graphene.ID(required=True)
    channel = ContactChannel(required=True)
    outcome = OutreachOutcome(required=True)
    reached = graphene.Boolean(required=True)
    occurred_on = _date("occurred_on")
    venue_id = graphene.ID()
    visit_id = graphene.ID()
    task_id = graphene.ID()
    follow_up_linked = graphene.Boolean(required=True)
    follow_up_code = graphene.String(description="Only when this call issued a new code (followUpConsent given): "
                                                 "hand it to the person; it is never shown again")


class IdentificationTalkRecorded(graphene.ObjectType):
    contact_id = graphene.ID()
    held_on = _date("held_on")
    venue_id = graphene.ID()
    task_id = graphene.ID()


class FollowUpWithdrawal(graphene.ObjectType):
    withdrawn = graphene.Boolean(required=True)
    withdrawn_on = _date("withdrawn_on")


class FollowUpConsent(graphene.ObjectType):
    scope = _strings(required=True, resolver=lambda p, _i: _get(p, "scope") or [])
    given_on = _date("given_on")
    withdrawn_on = _date("withdrawn_on")


class FollowUpContact(graphene.ObjectType):
    contact_id = graphene.ID(required=True)
    channel = graphene.String(required=True, description="visit, sms, call, chat, platform_message or "
                                                         "identification_talk")
    occurred_on = _date("occurred_on")
    outcome = graphene.String(required=True, description="An outcome code (identification_talk_held for a talk)")
    venue_id = graphene.ID()
    task_id = graphene.ID()


class FollowUp(graphene.ObjectType):
    """The contacts linked by a follow-up code the person keeps (the code itself is never answered here)."""
    consent = graphene.Field(FollowUpConsent)
    contacts = graphene.List(graphene.NonNull(FollowUpContact), required=True,
                             resolver=lambda p, _i: _get(p, "contacts") or [])


# -- digital outreach tasks --------------------------------------------------------------------------------------------
class OutreachAttempt(graphene.ObjectType):
    contact_id = graphene.ID(required=True)
    channel = OutreachChannel(required=True)
    at = graphene.String(required=True)
    outcome = OutreachOutcome(required=True)
    reached = graphene.Boolean(required=True)
    organisation = graphene.String()


class OutreachTask(graphene.ObjectType):
    """A digital outreach task: one per flagged ad cluster (an advertiser or network), not per ad."""
    task_id = graphene.ID(required=True)
    cluster_id = graphene.ID(required=True)
    state = OutreachTaskState(required=True)
    priority = OutreachPriority(required=True)
    score = graphene.Float()
    ruleset_version = graphene.String(description="The ad triage rule-set version whose flag opened the task")
    ad_keys = _strings(required=True, description="At most 50", resolver=lambda p, _i: _get(p, "ad_keys") or [])
    ad_count = graphene.Int(required=True)
    cities = _strings(required=True, resolver=lambda p, _i: _get(p, "cities") or [])
    regions = _strings(required=True, resolver=lambda p, _i: _get(p, "regions") or [])
    opened_at = graphene.String(required=True)
    updated_at = graphene.String(required=True)
    attempts = graphene.List(graphene.NonNull(OutreachAttempt), required=True,
                             resolver=lambda p, _i: _get(p, "attempts") or [])
    closed_reason = graphene.String()
    merged_into = graphene.String(description="The task of the cluster its ads moved to (state merged)")


class OutreachTaskEdge(graphene.ObjectType):
    cursor = graphene.String(required=True)
    node = graphene.Field(OutreachTask, required=True)


class OutreachTaskConnection(graphene.ObjectType):
    edges = graphene.List(graphene.NonNull(OutreachTaskEdge), required=True)
    page_info = graphene.Field(PageInfo, required=True)
    total_count = graphene.Int(required=True)


# -- aggregates and the sweep ----------------------------------------------------------------------------------------
class VisitCount(graphene.ObjectType):
    region = graphene.String(required=True)
    organisation = graphene.String(required=True)
    month = graphene.String(required=True, description="YYYY-MM")
    count = graphene.Int(required=True)
    people_met = graphene.Int(required=True)


class LanguageCount(graphene.ObjectType):
    language_group = graphene.String(required=True)
    count = graphene.Int(required=True)


class ContactCount(graphene.ObjectType):
    channel = graphene.String(required=True)
    outcome = graphene.String(required=True)
    count = graphene.Int(required=True)


class RegionCount(graphene.ObjectType):
    region = graphene.String(required=True)
    count = graphene.Int(required=True)


class TaskCounts(graphene.ObjectType):
    open = graphene.Int(required=True)
    in_progress = graphene.Int(required=True)
    closed = graphene.Int(required=True)
    merged = graphene.Int(required=True)


class OutreachActivity(graphene.ObjectType):
    """Aggregates only: no venue, visit, contact or task ids."""
    visits = graphene.List(graphene.NonNull(VisitCount), required=True, resolver=lambda p, _i: _get(p, "visits") or [])
    people_met_by_language = graphene.List(
        graphene.NonNull(LanguageCount), required=True,
        resolver=lambda p, _i: _pairs(_get(p, "people_met_by_language"), "language_group", "count"))
    contacts = graphene.List(graphene.NonNull(ContactCount), required=True,
                             resolver=lambda p, _i: _get(p, "contacts") or [])
    identification_talks = graphene.Int(required=True)
    venues_of_concern = graphene.List(graphene.NonNull(RegionCount), required=True,
                                      resolver=lambda p, _i: _get(p, "venues_of_concern") or [])
    tasks = graphene.Field(TaskCounts, required=True,
                           resolver=lambda p, _i: {"open": 0, "in_progress": 0, "closed": 0, "merged": 0,
                                                       **(_get(p, "tasks") or {})})


class SweepReport(graphene.ObjectType):
    overdue = graphene.Int(required=True, description="visits found overdue (an event each)")
    concern_changed = graphene.Int(required=True, description="venues whose concern level changed by decay")


# -- root fields -----------------------------------------------------------------------------------------------------
class OutreachQuery(graphene.ObjectType):
    outreach_reference = graphene.Field(
        OutreachReference, required=True, resolver=_rpc("reference"),
        description="Regions, municipalities, teams, budget lines, codes and the concern rules in force.")
    venues = graphene.Field(
        VenueConnection, required=True, region=graphene.String(), of_concern=graphene.Boolean(), kind=VenueKind(),
        **_page_args(), resolver=_rpc("venues", paged=True),
        description="Venues by concern score (highest first); a region-bound caller sees its region only.")
    venue = graphene.Field(Venue, venue_id=graphene.ID(required=True), resolver=_rpc("venue"))
    venue_address = graphene.Field(VenueAddress, venue_id=graphene.ID(required=True), resolver=_rpc("venue_address"),
                                   description="The venue's decrypted address (personal data: access is logged).")
    venue_concern = graphene.Field(VenueConcern, venue_id=graphene.ID(required=True), resolver=_rpc("venue_concern"),
                                   description="Why a venue is (not) of concern: its signals and the rule-set "
                                               "version.")
    visit_plan = graphene.Field(
        VisitConnection, required=True, team_id=graphene.String(), region=graphene.String(), state=VisitState(),
        due_before=graphene.Date(), **_page_args(), resolver=_rpc("visit_plan", paged=True),
        description="Planned and overdue visits by due date.")
    visits = graphene.Field(VisitConnection, required=True, venue_id=graphene.ID(), team_id=graphene.String(),
                            **_page_args(), resolver=_rpc("visits", paged=True), description="Newest first.")
    visit = graphene.Field(Visit, visit_id=graphene.ID(required=True), resolver=_rpc("visit"))
    outreach_tasks = graphene.Field(
        OutreachTaskConnection, required=True, state=OutreachTaskState(), priority=OutreachPriority(),
        **_page_args(), resolver=_rpc("tasks", paged=True),
        description="Digital outreach tasks by priority, score and age (default: open and in progress, priority "
                    "low or above).")
    outreach_task = graphene.Field(OutreachTask, task_id=graphene.ID(required=True), resolver=_rpc("task"))
    follow_up = graphene.Field(FollowUp, follow_up_code=graphene.String(required=True), resolver=_rpc("follow_up"),
                               description="The consent and the contacts linked by a follow-up code the person "
                                           "gave.")
    outreach_activity = graphene.Field(OutreachActivity, required=True, from_on=graphene.Date(),
                                       to_on=graphene.Date(), resolver=_rpc("activity"),
                                       description="Aggregates only (no ids).")


class OutreachMutation(graphene.ObjectType):
    register_venue = graphene.Field(
        Venue, kind=VenueKind(required=True), label=graphene.String(required=True),
        municipality=graphene.String(required=True, description="Municipality code, e.g. 101 (København)"),
        address=graphene.String(description="Kept encrypted; read back with venueAddress only"),
        request_id=request_id_argument(), resolver=_rpc("register_venue", command=True))
    link_cluster_to_venue = graphene.Field(
        Venue, venue_id=graphene.ID(required=True), cluster_id=graphene.ID(required=True),
        request_id=request_id_argument(), resolver=_rpc("link_cluster", command=True))
    record_inspection_note = graphene.Field(
        Venue, venue_id=graphene.ID(required=True), on=graphene.Date(required=True),
        agencies=_strings(required=True), finding=graphene.String(required=True),
        note=graphene.String(description="Kept encrypted"), request_id=request_id_argument(),
        resolver=_rpc("record_inspection_note", command=True))
    record_identification = graphene.Field(
        Venue, venue_id=graphene.ID(required=True), on=graphene.Date(required=True),
        persons=graphene.Int(required=True), request_id=request_id_argument(),
        resolver=_rpc("record_identification", command=True))
    plan_visit = graphene.Field(
        Visit, venue_id=graphene.ID(required=True), team_id=graphene.String(required=True),
        due_on=graphene.Date(required=True), request_id=request_id_argument(),
        resolver=_rpc("plan_visit", command=True))
    record_visit = graphene.Field(
        Visit, venue_id=graphene.ID(required=True), team_id=graphene.String(required=True),
        visited_on=graphene.Date(required=True),
        people_met=graphene.List(graphene.NonNull(PeopleMetInput), required=True),
        materials=_strings(required=True), health_services=_strings(required=True),
        identification_talk=IdentificationTalk(required=True), indicators=_strings(required=True),
        follow_up_needed=graphene.Boolean(required=True), funding=FundingInput(required=True),
        screening_outcome=graphene.String(), visit_id=graphene.ID(description="The planned visit it fulfils; "
                                                                               "default: the earliest open one"),
        request_id=request_id_argument(), resolver=_rpc("record_visit", command=True),
        description="Record a screening visit; answers the visit with the revisit planned from the concern level.")
    record_contact = graphene.Field(
        ContactRecorded, channel=ContactChannel(required=True), occurred_on=graphene.Date(required=True),
        outcome=OutreachOutcome(required=True), funding=FundingInput(required=True), venue_id=graphene.ID(),
        visit_id=graphene.ID(), task_id=graphene.ID(), language_group=graphene.String(),
        follow_up_code=graphene.String(description="Link to the person's existing follow-up code"),
        follow_up_consent=FollowUpConsentInput(description="The person agrees to follow-up: a new code is issued"),
        request_id=request_id_argument(), resolver=_rpc("record_contact", command=True),
        description="An anonymous contact; linked to others only with the person's follow-up code.")
    record_outreach_attempt = graphene.Field(
        OutreachTask, task_id=graphene.ID(required=True), channel=OutreachChannel(required=True),
        at=graphene.DateTime(required=True), outcome=OutreachOutcome(required=True),
        funding=FundingInput(required=True), request_id=request_id_argument(),
        resolver=_rpc("record_attempt", command=True),
        description="A digital outreach attempt on a task (no message content); its outcome reaches ad triage.")
    record_identification_talk = graphene.Field(
        IdentificationTalkRecorded, held_on=graphene.Date(required=True), venue_id=graphene.ID(),
        task_id=graphene.ID(), follow_up_code=graphene.String(), request_id=request_id_argument(),
        resolver=_rpc("record_identification_talk", command=True))
    withdraw_follow_up_consent = graphene.Field(
        FollowUpWithdrawal, follow_up_code=graphene.String(required=True), request_id=request_id_argument(),
        resolver=_rpc("withdraw_follow_up_consent", command=True))
    close_outreach_task = graphene.Field(
        OutreachTask, task_id=graphene.ID(required=True), reason=OutreachTaskCloseReason(required=True),
        request_id=request_id_argument(), resolver=_rpc("close_task", command=True))
    run_outreach_sweep = graphene.Field(
        SweepReport, request_id=request_id_argument(), resolver=_rpc("run_sweep", command=True),
        description="Find overdue visits and concern changed by decay now (also run on a timer).")
