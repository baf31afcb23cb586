"""GraphQL for the grants service: pools, applications, grants, organisations, attribution and exports.

Mutations take the caller's pseudonymous id from the request (never from arguments) and a required requestId, the
client's idempotency key: a retry reuses it, so the service runs the command at most once.
"""
from __future__ import annotations

import graphene

from gateway.forward import forward, request_id_argument
from gateway.scalars import Ore, dkk
from gateway.types import Period, day


class FinanceCommitteeApproval(graphene.ObjectType):
    approved_on = graphene.String(required=True)
    reference = graphene.String(required=True)
    amount_ore = Ore(required=True)


class Pool(graphene.ObjectType):
    code = graphene.String(required=True)
    title = graphene.String()
    initiative = graphene.Int()
    period = graphene.Field(Period)
    allocated_ore = Ore(description="Null until known (Pro Vest's amount is not in the amendment).")
    allocated_dkk = graphene.Decimal()
    committed_ore = Ore(required=True)
    disbursed_ore = Ore(required=True)
    remaining_ore = Ore()
    grant_count = graphene.Int(required=True)
    finance_committee_approval = graphene.Field(FinanceCommitteeApproval)

    @staticmethod
    def resolve_allocated_dkk(parent, _info):
        return dkk(parent.get("allocated_ore"))


class ApplicationState(graphene.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_ASSESSMENT = "in_assessment"
    AWARDED = "awarded"
    REJECTED = "rejected"
    ACTIVE = "active"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class ApplicationMove(graphene.Enum):
    START_ASSESSMENT = "start_assessment"
    REJECT = "reject"
    WITHDRAW = "withdraw"
    ACTIVATE = "activate"
    CLOSE = "close"


class OrganisationRole(graphene.Enum):
    APPLICANT = "applicant"
    KNOWLEDGE_INSTITUTION = "knowledge_institution"
    FUNDER = "funder"


class Transition(graphene.ObjectType):
    from_state = graphene.String()
    to_state = graphene.String(required=True)
    actor = graphene.String(required=True)
    at = graphene.String(required=True)


class GrantApplication(graphene.ObjectType):
    id = graphene.ID(required=True)
    pool_code = graphene.String(required=True)
    applicant_id = graphene.String(required=True)
    knowledge_partner_id = graphene.String()
    title = graphene.String(required=True)
    description = graphene.String(required=True)
    requested_ore = Ore(required=True)
    start = graphene.Date(required=True)
    end = graphene.Date(required=True)
    state = graphene.String(required=True)
    note_count = graphene.Int(required=True)
    history = graphene.List(graphene.NonNull(Transition), required=True)

    @staticmethod
    def resolve_start(parent, _info):
        return day(parent["start"])

    @staticmethod
    def resolve_end(parent, _info):
        return day(parent["end"])


class AssessmentNote(graphene.ObjectType):
    author = graphene.String(required=True)
    at = graphene.String(required=True)
    text = graphene.String(required=True)


class GrantBalance(graphene.ObjectType):
    committed_ore = Ore(required=True)
    disbursed_ore = Ore(required=True)
    undisbursed_ore = Ore(required=True)
    withdrawn = graphene.Boolean(required=True)


class Obligation(graphene.ObjectType):
    id = graphene.ID(required=True)
    grant_id = graphene.String(required=True)
    kind = graphene.String(required=True)
    responsible_id = graphene.String(required=True)
    due = graphene.String(required=True)
    milestone_code = graphene.String()
    fulfilled_on = graphene.String()
    overdue_reported = graphene.Boolean(required=True)


class Grant(graphene.ObjectType):
    application = graphene.Field(GrantApplication, required=True)
    balance = graphene.Field(GrantBalance)
    obligations = graphene.List(graphene.NonNull(Obligation), required=True)


class Organisation(graphene.ObjectType):
    id = graphene.ID(required=True)
    name = graphene.String(required=True)
    roles = graphene.List(graphene.NonNull(graphene.String), required=True)


class OrganisationSummary(Organisation):
    applications = graphene.List(graphene.NonNull(GrantApplication), required=True)
    grant_count = graphene.Int(required=True)
    committed_ore = Ore(required=True)
    disbursed_ore = Ore(required=True)


class Attribution(graphene.ObjectType):
    grant_id = graphene.String(required=True)
    initiative_number = graphene.Int(required=True)
    initiative_code = graphene.String(required=True)
    fund_code = graphene.String(required=True)
    funder_id = graphene.String(required=True)
    recipient_id = graphene.String(required=True)


def _rpc(method: str, *, with_actor: bool = False, command: bool = False, **fixed):
    return forward("grants", method, actor=with_actor, command=command, **fixed)


class GrantsQuery(graphene.ObjectType):
    pools = graphene.List(graphene.NonNull(Pool), required=True, resolver=_rpc("pools"),
                          description="Per pool or funding: allocated, committed, disbursed, remaining, grants.")
    applications = graphene.List(graphene.NonNull(GrantApplication), required=True, pool_code=graphene.String(),
                                 state=ApplicationState(), applicant_id=graphene.String(),
                                 resolver=_rpc("applications"))
    application = graphene.Field(GrantApplication, application_id=graphene.ID(required=True),
                                 resolver=_rpc("application"))
    assessment_notes = graphene.List(graphene.NonNull(AssessmentNote), required=True,
                                     application_id=graphene.ID(required=True), resolver=_rpc("assessment_notes"),
                                     description="Decrypted assessment notes of one application (access is logged).")
    grant = graphene.Field(Grant, grant_id=graphene.ID(required=True), resolver=_rpc("grant"))
    organisation = graphene.Field(OrganisationSummary, org_id=graphene.ID(required=True),
                                  resolver=_rpc("organisation"))
    organisations = graphene.List(graphene.NonNull(Organisation), required=True, resolver=_rpc("organisations"))
    grant_attribution = graphene.Field(Attribution, grant_id=graphene.ID(required=True),
                                       resolver=_rpc("attribute_activity"),
                                       description="Which programme and grant fund an activity; only active grants.")
    grants_360giving = graphene.String(required=True, resolver=_rpc("export_360giving"),
                                       description="360Giving 1.4 package (JSON text) of the published grants.")
    grants_csv = graphene.String(required=True, resolver=_rpc("export_csv"))


class GrantsMutation(graphene.ObjectType):
    register_organisation = graphene.Field(
        Organisation, org_id=graphene.String(required=True), name=graphene.String(required=True),
        roles=graphene.List(graphene.NonNull(OrganisationRole), required=True), request_id=request_id_argument(),
        resolver=_rpc("register_organisation", command=True))
    draft_grant_application = graphene.Field(
        GrantApplication, pool_code=graphene.String(required=True), applicant_id=graphene.String(required=True),
        knowledge_partner_id=graphene.String(), title=graphene.String(required=True),
        # "description" is also Field's own keyword, so this argument is declared through args
        args={"description": graphene.Argument(graphene.String, required=True)}, requested_ore=Ore(required=True),
        start=graphene.Date(required=True), end=graphene.Date(required=True), request_id=request_id_argument(),
        resolver=_rpc("draft_application", with_actor=True, command=True))
    submit_grant_application = graphene.Field(
        GrantApplication, application_id=graphene.ID(required=True), request_id=request_id_argument(),
        resolver=_rpc("submit_application", with_actor=True, command=True))
    move_grant_application = graphene.Field(
        GrantApplication, application_id=graphene.ID(required=True), move=ApplicationMove(required=True),
        reason=graphene.String(), request_id=request_id_argument(),
        resolver=_rpc("move_application", with_actor=True, command=True))
    add_assessment_note = graphene.Field(
        GrantApplication, application_id=graphene.ID(required=True), text=graphene.String(required=True),
        request_id=request_id_argument(), resolver=_rpc("add_assessment_note", with_actor=True, command=True))
    award_grant_application = graphene.Field(
        GrantApplication, application_id=graphene.ID(required=True), amount_ore=Ore(required=True),
        award_date=graphene.Date(required=True), request_id=request_id_argument(),
        resolver=_rpc("award_application", with_actor=True, command=True))
    disburse_grant = graphene.Field(
        Pool, grant_id=graphene.ID(required=True), amount_ore=Ore(required=True), paid_on=graphene.Date(required=True),
        request_id=request_id_argument(), resolver=_rpc("disburse", with_actor=True, command=True))
    reallocate_commitment = graphene.Field(
        Pool, from_grant_id=graphene.ID(required=True), to_grant_id=graphene.ID(), amount_ore=Ore(required=True),
        reason=graphene.String(required=True), request_id=request_id_argument(),
        resolver=_rpc("reallocate", with_actor=True, command=True))
    withdraw_commitment = graphene.Field(
        Pool, grant_id=graphene.ID(required=True), reason=graphene.String(required=True),
        request_id=request_id_argument(),
        resolver=_rpc("withdraw_commitment", with_actor=True, command=True))
    enter_pool_budget = graphene.Field(
        Pool, pool_code=graphene.String(required=True), amount_ore=Ore(required=True),
        request_id=request_id_argument(),
        resolver=_rpc("enter_pool_budget", with_actor=True, command=True))
    approve_finance_committee = graphene.Field(
        Pool, pool_code=graphene.String(required=True), approved_on=graphene.Date(required=True),
        reference=graphene.String(required=True), request_id=request_id_argument(),
        resolver=_rpc("approve_finance_committee", with_actor=True, command=True))
    fulfil_obligation = graphene.Field(
        Obligation, obligation_id=graphene.ID(required=True), fulfilled_on=graphene.Date(required=True),
        request_id=request_id_argument(), resolver=_rpc("fulfil_obligation", with_actor=True, command=True))
