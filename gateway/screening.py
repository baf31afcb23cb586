"""GraphQL for the screening service (initiatives 2 and 3): instruments, screenings and their scoring, joint
inspections, consent and its history, referrals to CMM and the partner agencies with their timelines.

Composed into the gateway's Query and Mutation (``gateway/schema.py``). Every resolver forwards to an RPC method of
the service named ``screening`` (``services/screening/service.py``), which checks the policy again and scopes its
answer: a screening of another organisation, or a referral not sent to the calling partner, answers as unknown.

What this module guarantees on its own:

* a screening's answers are read only through ``screeningAnswers``, an override's reason only through
  ``consentOverrides`` (caseworkers); no other type carries them;
* every mutation takes the client's ``requestId`` and the caller as ``actor`` from the request, never from
  arguments;
* lists are Relay-style connections bounded by ``first``;
* screenings and referrals are data subjects of the access log (``gateway/audit.py``, ``SUBJECT_TYPES``).
"""
from __future__ import annotations

import graphene

from gateway.forward import request_id_argument
from gateway.types import day as _date
from gateway.paging import PageInfo, answer_key as _get, page_args as _page_args, resolver

SERVICE = "screening"


def _rpc(method: str, *, command: bool = False, paged: bool = False):
    return resolver(SERVICE, method, command=command, paged=paged)


def _text(key: str):
    """A {da, en} text of the data files."""
    return graphene.Field(Texts, required=True, resolver=lambda p, _i: _get(p, key) or {})


# -- enums -------------------------------------------------------------------------------------------------------
class ScreeningOutcome(graphene.Enum):
    NO_INDICATORS = "no_indicators"
    INDICATORS_PRESENT = "indicators_present"
    REFER_FOR_IDENTIFICATION = "refer_for_identification"


class ScreeningAnswerValue(graphene.Enum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"
    DECLINED = "declined"


class ScreeningTalk(graphene.Enum):
    NOT_OFFERED = "not_offered"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    HELD = "held"


class AgeBand(graphene.Enum):
    UNDER_18 = "under_18"
    AGE_18_24 = "18_24"
    AGE_25_34 = "25_34"
    AGE_35_49 = "35_49"
    AGE_50_PLUS = "50_plus"
    UNKNOWN = "unknown"


class Gender(graphene.Enum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class ReferralState(graphene.Enum):
    """HL7 FHIR Task states."""
    REQUESTED = "requested"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    COMPLETED = "completed"
    REVOKED = "revoked"


class ReferralAction(graphene.Enum):
    """What the recipient does: acknowledge → received, accept, reject, complete (with a decision)."""
    ACKNOWLEDGE = "acknowledge"
    ACCEPT = "accept"
    REJECT = "reject"
    COMPLETE = "complete"


class TraffickingStatus(graphene.Enum):
    """IOM HTCDS trafficking status."""
    POSSIBLE_VICTIM_OF_TRAFFICKING = "PossibleVictimOfTrafficking"
    ACTUAL_VICTIM_OF_TRAFFICKING = "ActualVictimOfTrafficking"
    NOT_A_VICTIM_OF_TRAFFICKING = "NotAVictimOfTrafficking"


# -- inputs ------------------------------------------------------------------------------------------------------
class ScreeningAnswerInput(graphene.InputObjectType):
    question = graphene.String(required=True)
    answer = ScreeningAnswerValue(required=True)


class ConsentPairInput(graphene.InputObjectType):
    recipient = graphene.String(required=True, description="An agency id of policy/partners.toml, e.g. cmm, wea")
    purpose = graphene.String(required=True, description="A purpose that agency has, e.g. labour_inspection")


# -- reference ---------------------------------------------------------------------------------------------------
class Texts(graphene.ObjectType):
    da = graphene.String(required=True)
    en = graphene.String(required=True)


class InstrumentIndicator(graphene.ObjectType):
    indicator_id = graphene.String(required=True)
    dimension = graphene.String()
    strength = graphene.String()
    text = _text("text")
    methods_of_control = graphene.List(graphene.NonNull(graphene.String), required=True,
                                       description="IOM HTCDS MethodsOfControl codes")


class InstrumentQuestion(graphene.ObjectType):
    question_id = graphene.String(required=True)
    indicator = graphene.String(required=True)
    text = _text("text")


class ScreeningInstrument(graphene.ObjectType):
    instrument_id = graphene.String(required=True)
    version = graphene.String(required=True)
    versions = graphene.List(graphene.NonNull(graphene.String), required=True)
    title = _text("title")
    context = graphene.String(required=True, description="workplace or venue")
    source = graphene.String(required=True)
    licence = graphene.String(required=True)
    rule = graphene.JSONString(required=True, description="The combination rule as the data file states it")
    indicators = graphene.List(graphene.NonNull(InstrumentIndicator), required=True)
    questions = graphene.List(graphene.NonNull(InstrumentQuestion), required=True)


class IndustrySector(graphene.ObjectType):
    code = graphene.String(required=True, description="DB07 (Statistics Denmark)")
    section = graphene.String(required=True)
    isic = graphene.String(required=True, description="ISIC Rev. 4 section")
    name = _text("name")
    cmm_focus = graphene.Boolean(required=True, description="A sector CMM names for forced labour")


# -- screenings --------------------------------------------------------------------------------------------------
class ScreeningContext(graphene.ObjectType):
    kind = graphene.String(required=True)
    sector = graphene.String()
    isic = graphene.String()
    municipality = graphene.String(required=True)
    region = graphene.String(required=True)
    venue_id = graphene.ID()
    joint_inspection_id = graphene.ID()


class ScreenedPerson(graphene.ObjectType):
    language_group = graphene.String()
    age_band = graphene.String()
    gender = graphene.String()


class ScreeningIndicatorFired(graphene.ObjectType):
    indicator = graphene.String(required=True)
    dimension = graphene.String()
    strength = graphene.String()
    questions = graphene.List(graphene.NonNull(graphene.String), required=True)
    methods_of_control = graphene.List(graphene.NonNull(graphene.String), required=True)


class DimensionResult(graphene.ObjectType):
    dimension = graphene.String(required=True)
    positive = graphene.Boolean(required=True)


class ConsentPair(graphene.ObjectType):
    recipient = graphene.String(required=True)
    purpose = graphene.String(required=True)


class Consent(graphene.ObjectType):
    screening_id = graphene.ID(required=True)
    in_force = graphene.List(graphene.NonNull(ConsentPair), required=True)
    version = graphene.Int(required=True)
    revoked = graphene.Int(description="Referrals revoked by this change (narrow and withdraw)")


class Screening(graphene.ObjectType):
    screening_id = graphene.ID(required=True)
    organisation = graphene.String(required=True)
    screened_on = graphene.Date(required=True, resolver=lambda p, _i: _date(_get(p, "screened_on")))
    recorded_at = graphene.String(required=True)
    context = graphene.Field(ScreeningContext, required=True)
    person = graphene.Field(ScreenedPerson, required=True)
    instrument = graphene.String(required=True)
    instrument_version = graphene.String(required=True)
    outcome = ScreeningOutcome(required=True)
    rule = graphene.String(required=True, description="The clause of the combination rule that decided")
    explanation = graphene.List(graphene.NonNull(graphene.String), required=True)
    dimensions = graphene.List(graphene.NonNull(DimensionResult), required=True)
    fired = graphene.List(graphene.NonNull(ScreeningIndicatorFired), required=True)
    methods_of_control = graphene.List(graphene.NonNull(graphene.String), required=True)
    identification_talk = ScreeningTalk(required=True)
    talk_held_on = graphene.Date(resolver=lambda p, _i: _date(_get(p, "talk_held_on")))
    consent = graphene.Field(Consent, required=True)
    escalated = graphene.List(graphene.NonNull(graphene.String), required=True,
                              description="Deadlines missed and escalated")


class ScreeningEdge(graphene.ObjectType):
    cursor = graphene.String(required=True)
    node = graphene.Field(Screening, required=True)


class ScreeningConnection(graphene.ObjectType):
    edges = graphene.List(graphene.NonNull(ScreeningEdge), required=True)
    page_info = graphene.Field(PageInfo, required=True)
    total_count = graphene.Int(required=True, description="Items on this page")


class ScreeningAnswer(graphene.ObjectType):
    question = graphene.String(required=True)
    answer = graphene.String(required=True)


class ScreeningAnswers(graphene.ObjectType):
    screening_id = graphene.ID(required=True)
    answers = graphene.List(graphene.NonNull(ScreeningAnswer), required=True)


class JointInspection(graphene.ObjectType):
    inspection_id = graphene.ID(required=True)
    organisation = graphene.String(required=True)
    inspected_on = graphene.Date(required=True, resolver=lambda p, _i: _date(_get(p, "inspected_on")))
    agencies = graphene.List(graphene.NonNull(graphene.String), required=True)
    sector = graphene.String(required=True)
    isic = graphene.String(required=True)
    municipality = graphene.String(required=True)
    region = graphene.String(required=True)


class ConsentChange(graphene.ObjectType):
    kind = graphene.String(required=True, description="granted, narrowed or withdrawn")
    changed = graphene.List(graphene.NonNull(ConsentPair), required=True)
    in_force = graphene.List(graphene.NonNull(ConsentPair), required=True)
    legal_basis = graphene.String()
    by = graphene.String(required=True)
    role = graphene.String()
    organisation = graphene.String()
    at = graphene.String(required=True)
    version = graphene.Int(required=True)


class ConsentOverride(graphene.ObjectType):
    override_id = graphene.ID(required=True)
    referral_id = graphene.ID(required=True)
    recipient = graphene.String(required=True)
    purpose = graphene.String(required=True)
    by = graphene.String(required=True)
    role = graphene.String(required=True)
    organisation = graphene.String()
    at = graphene.String(required=True)
    reason = graphene.String(required=True, description="Kept encrypted; shown to caseworkers only")


# -- referrals ---------------------------------------------------------------------------------------------------
class ReferralStep(graphene.ObjectType):
    state = ReferralState(required=True)
    at = graphene.String(required=True)
    by = graphene.String()


class ReferralDecision(graphene.ObjectType):
    status = TraffickingStatus(required=True)
    decided_by = graphene.String(required=True)
    at = graphene.String(required=True)


class ReferralRevocation(graphene.ObjectType):
    reason = graphene.String(required=True)
    at = graphene.String(required=True)


class Referral(graphene.ObjectType):
    referral_id = graphene.ID(required=True)
    screening_id = graphene.ID(required=True)
    organisation = graphene.String(required=True, description="The referring organisation")
    recipient = graphene.String(required=True)
    purpose = graphene.String(required=True)
    basis = graphene.String(required=True, description="consent or override")
    state = ReferralState(required=True)
    requested_at = graphene.String(required=True)
    acknowledge_by = graphene.String()
    timeline = graphene.List(graphene.NonNull(ReferralStep), required=True)
    decision = graphene.Field(ReferralDecision)
    revocation = graphene.Field(ReferralRevocation)
    escalated = graphene.List(graphene.NonNull(graphene.String), required=True)


class ReferralEdge(graphene.ObjectType):
    cursor = graphene.String(required=True)
    node = graphene.Field(Referral, required=True)


class ReferralConnection(graphene.ObjectType):
    edges = graphene.List(graphene.NonNull(ReferralEdge), required=True)
    page_info = graphene.Field(PageInfo, required=True)
    total_count = graphene.Int(required=True, description="Items on this page")


class DeadlineSweepReport(graphene.ObjectType):
    escalated = graphene.Int(required=True)


class ScreeningQuery(graphene.ObjectType):
    screening_instruments = graphene.List(graphene.NonNull(ScreeningInstrument), required=True,
                                          resolver=_rpc("instruments"),
                                          description="The newest version of each instrument")
    screening_instrument = graphene.Field(ScreeningInstrument, instrument_id=graphene.String(required=True),
                                          version=graphene.String(), resolver=_rpc("instrument"))
    industry_sectors = graphene.List(graphene.NonNull(IndustrySector), required=True, resolver=_rpc("sectors"))
    screenings = graphene.Field(ScreeningConnection, required=True, outcome=ScreeningOutcome(), **_page_args(),
                                resolver=_rpc("screenings", paged=True), description="Newest first")
    screening = graphene.Field(Screening, screening_id=graphene.ID(required=True), resolver=_rpc("screening"))
    screening_answers = graphene.Field(ScreeningAnswers, screening_id=graphene.ID(required=True),
                                       resolver=_rpc("screening_answers"))
    consent_history = graphene.List(graphene.NonNull(ConsentChange), required=True,
                                    screening_id=graphene.ID(required=True), resolver=_rpc("consent_history"))
    consent_overrides = graphene.List(graphene.NonNull(ConsentOverride), required=True,
                                      screening_id=graphene.ID(required=True), resolver=_rpc("consent_overrides"))
    referrals = graphene.Field(ReferralConnection, required=True, screening_id=graphene.ID(), state=ReferralState(),
                               **_page_args(), resolver=_rpc("referrals", paged=True),
                               description="Referrals the caller's organisation made (caseworkers: all)")
    referral = graphene.Field(Referral, referral_id=graphene.ID(required=True), resolver=_rpc("referral"))
    partner_referrals = graphene.Field(ReferralConnection, required=True, state=ReferralState(), **_page_args(),
                                       resolver=_rpc("partner_referrals", paged=True),
                                       description="Referrals sent to the caller's agency")
    partner_referral = graphene.Field(Referral, referral_id=graphene.ID(required=True),
                                      resolver=_rpc("partner_referral"))


class ScreeningMutation(graphene.ObjectType):
    record_screening = graphene.Field(
        Screening, instrument=graphene.String(required=True), instrument_version=graphene.String(
            description="Default: the newest"),
        answers=graphene.List(graphene.NonNull(ScreeningAnswerInput), required=True),
        screened_on=graphene.Date(required=True),
        municipality=graphene.String(required=True, description="Municipality code, e.g. 101 (København)"),
        sector=graphene.String(description="DB07 code (workplace instruments)"),
        venue_id=graphene.ID(description="The outreach venue (venue instruments)"),
        joint_inspection_id=graphene.ID(), language_group=graphene.String(), age_band=AgeBand(), gender=Gender(),
        identification_talk=ScreeningTalk(default_value="not_offered"), request_id=request_id_argument(),
        resolver=_rpc("record_screening", command=True),
        description="Record and score a screening; answers the outcome, each indicator that fired and the rule.")
    record_joint_inspection = graphene.Field(
        JointInspection, inspected_on=graphene.Date(required=True), agencies=graphene.List(
            graphene.NonNull(graphene.String), required=True), sector=graphene.String(required=True),
        municipality=graphene.String(required=True), request_id=request_id_argument(),
        resolver=_rpc("record_joint_inspection", command=True))
    record_screening_identification_talk = graphene.Field(
        Screening, screening_id=graphene.ID(required=True), held_on=graphene.Date(required=True),
        request_id=request_id_argument(), resolver=_rpc("record_identification_talk", command=True))
    grant_consent = graphene.Field(
        Consent, screening_id=graphene.ID(required=True),
        scope=graphene.List(graphene.NonNull(ConsentPairInput), required=True),
        legal_basis=graphene.String(required=True), request_id=request_id_argument(),
        resolver=_rpc("grant_consent", command=True))
    narrow_consent = graphene.Field(
        Consent, screening_id=graphene.ID(required=True),
        scope=graphene.List(graphene.NonNull(ConsentPairInput), required=True,
                            description="The pairs taken back"),
        request_id=request_id_argument(), resolver=_rpc("narrow_consent", command=True))
    withdraw_consent = graphene.Field(
        Consent, screening_id=graphene.ID(required=True), request_id=request_id_argument(),
        resolver=_rpc("withdraw_consent", command=True),
        description="Withdraw all consent: every agency that received data about the screening gets a revocation.")
    request_referral = graphene.Field(
        Referral, screening_id=graphene.ID(required=True), recipient=graphene.String(required=True),
        purpose=graphene.String(required=True),
        override_reason=graphene.String(description="Share without consent (caseworkers only): kept encrypted"),
        request_id=request_id_argument(), resolver=_rpc("request_referral", command=True))
    revoke_referral = graphene.Field(Referral, referral_id=graphene.ID(required=True),
                                     request_id=request_id_argument(), resolver=_rpc("revoke_referral", command=True))
    respond_to_referral = graphene.Field(
        Referral, referral_id=graphene.ID(required=True), action=ReferralAction(required=True),
        status=TraffickingStatus(description="With complete: the decision (HTCDS trafficking status)"),
        request_id=request_id_argument(), resolver=_rpc("respond_to_referral", command=True),
        description="The recipient's answer: acknowledge (received), accept, reject, complete.")
    run_screening_sweep = graphene.Field(DeadlineSweepReport, request_id=request_id_argument(),
                                         resolver=_rpc("run_sweep", command=True))
