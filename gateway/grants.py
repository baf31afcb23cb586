"""GraphQL for the grants service: pools, applications, grants, organisations, attribution and exports.

Mutations take the caller's pseudonymous id from the request (never from arguments) and a required requestId, the
client's idempotency key: a retry reuses it, so the service runs the command at most once.
"""
from __future__ import annotations

import graphene

from graphql import GraphQLError

from gateway.forward import forward, request_id_argument
from gateway.scalars import MAX_STATED, Dkk, Ore, dkk
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
    awarded_ore = Ore(description="The amount of the award decision; null until awarded.")
    requested_dkk = Dkk(required=True)
    awarded_dkk = Dkk()
    note_count = graphene.Int(required=True)
    history = graphene.List(graphene.NonNull(Transition), required=True)

    @staticmethod
    def resolve_requested_dkk(parent, _info):
        return parent["requested_ore"]

    @staticmethod
    def resolve_awarded_dkk(parent, _info):
        return parent.get("awarded_ore")

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
    award_date = graphene.String(description="ISO date of the award; no disbursement is dated before it.")


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
    """An awarded application: its state (awarded, active, closed or withdrawn), application, balance and
    reporting obligations."""
    id = graphene.ID(required=True)
    state = graphene.String(required=True)
    code = graphene.String(deprecation_reason="The pool's code, kept for clients written when the money mutations "
                                              "answered the pool: read application.poolCode.")
    application = graphene.Field(GrantApplication, required=True)
    balance = graphene.Field(GrantBalance)
    obligations = graphene.List(graphene.NonNull(Obligation), required=True)

    @staticmethod
    def resolve_code(parent, _info):
        return (parent.get("application") or {}).get("pool_code")


class FieldChange(graphene.ObjectType):
    field = graphene.String(required=True, description="name, roles, or registered")
    before = graphene.String()
    after = graphene.String()


class OrganisationChange(graphene.ObjectType):
    version = graphene.Int(required=True, description="The version this change produced.")
    actor = graphene.String(description="Pseudonymous id of who made the change (null: registered by a tool).")
    at = graphene.String(required=True)
    changes = graphene.List(graphene.NonNull(FieldChange), required=True)


class Organisation(graphene.ObjectType):
    id = graphene.ID(required=True)
    name = graphene.String(required=True)
    roles = graphene.List(graphene.NonNull(graphene.String), required=True)
    version = graphene.Int(description="Give it to changeOrganisation; null in lists.")
    history = graphene.List(graphene.NonNull(OrganisationChange), description="Who changed what, when.")


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


class PoolFigures(graphene.ObjectType):
    allocated_ore = Ore()
    committed_ore = Ore(required=True)
    disbursed_ore = Ore(required=True)


class PoolAudit(graphene.ObjectType):
    code = graphene.String(required=True)
    stored = graphene.Field(PoolFigures, required=True)
    recomputed = graphene.Field(PoolFigures, required=True)
    difference = graphene.Field(PoolFigures, required=True, description="Stored minus recomputed; 0 agrees.")
    agrees = graphene.Boolean(required=True)


class GrantFigures(graphene.ObjectType):
    committed_ore = Ore(required=True)
    disbursed_ore = Ore(required=True)


class GrantAudit(graphene.ObjectType):
    grant_id = graphene.String(required=True)
    stored = graphene.Field(GrantFigures, required=True)
    recomputed = graphene.Field(GrantFigures, required=True)
    difference = graphene.Field(GrantFigures, required=True, description="Stored minus recomputed; 0 agrees.")
    agrees = graphene.Boolean(required=True)


class LedgerAudit(graphene.ObjectType):
    agrees = graphene.Boolean(required=True, description="True when every stored figure equals its recomputation.")
    pools = graphene.List(graphene.NonNull(PoolAudit), required=True)
    grants = graphene.List(graphene.NonNull(GrantAudit), required=True)


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
    grant = graphene.Field(Grant, grant_id=graphene.ID(required=True), resolver=_rpc("grant"),
                           description="A grant (an awarded application); null for anything never awarded.")
    ledger_audit = graphene.Field(LedgerAudit, required=True, resolver=_rpc("ledger_audit"),
                                  description="Stored balances beside those recomputed from the ledger's events, "
                                              "with any difference.")
    organisation = graphene.Field(OrganisationSummary, org_id=graphene.ID(required=True),
                                  resolver=_rpc("organisation"))
    organisations = graphene.List(graphene.NonNull(Organisation), required=True, resolver=_rpc("organisations"))
    grant_attribution = graphene.Field(Attribution, grant_id=graphene.ID(required=True),
                                       resolver=_rpc("attribute_activity"),
                                       description="Which programme and grant fund an activity; only active grants.")
    grants_360giving = graphene.String(required=True, resolver=_rpc("export_360giving"),
                                       description="360Giving 1.4 package (JSON text) of the published grants.")
    grants_csv = graphene.String(required=True, resolver=_rpc("export_csv"))


ORE_DESCRIPTION = f"Integer øre, {MAX_STATED}. Give this or the DKK text, not both."
DKK_DESCRIPTION = f'Decimal DKK text with at most two decimals ("1250.50"), {MAX_STATED}. Give this or the øre.'


def _amount(name: str):
    """The two ways to give an amount: ``<name>Ore`` (integer øre) or ``<name>Dkk`` (DKK text)."""
    return {f"{name}_ore": Ore(description=ORE_DESCRIPTION), f"{name}_dkk": Dkk(description=DKK_DESCRIPTION)}


def _with_amount(name: str, resolver):
    """Exactly one of ``<name>Ore`` and ``<name>Dkk``: both scalars give øre, forwarded as ``<name>_ore``."""
    ore, dkk_ = f"{name}_ore", f"{name}_dkk"

    async def resolve(root, info, **args):
        given = [k for k in (ore, dkk_) if args.get(k) is not None]
        if len(given) != 1:
            camel = name[0] + name.title().replace("_", "")[1:]
            raise GraphQLError(f"give the amount once: {camel}Ore (integer øre) or {camel}Dkk (DKK text)",
                               extensions={"code": "invalid_arguments", "field": f"{camel}Ore"})
        value = args.pop(dkk_, None)
        args[ore] = args[ore] if value is None else value
        return await resolver(root, info, **args)
    return resolve


class GrantsMutation(graphene.ObjectType):
    register_organisation = graphene.Field(
        Organisation, org_id=graphene.String(required=True), name=graphene.String(required=True),
        roles=graphene.List(graphene.NonNull(OrganisationRole), required=True), request_id=request_id_argument(),
        resolver=_rpc("register_organisation", with_actor=True, command=True),
        description="Register a new organisation; a CVR already registered is refused (organisation_exists).")
    change_organisation = graphene.Field(
        Organisation, org_id=graphene.String(required=True),
        version=graphene.Int(required=True, description="The version last read (stale_version otherwise)."),
        name=graphene.String(), roles=graphene.List(graphene.NonNull(OrganisationRole)),
        request_id=request_id_argument(), resolver=_rpc("change_organisation", with_actor=True, command=True),
        description="Change an organisation's name or roles; kept in its history. A role an application in "
                    "progress depends on cannot be removed (role_in_use).")
    draft_grant_application = graphene.Field(
        GrantApplication, pool_code=graphene.String(required=True), applicant_id=graphene.String(required=True),
        knowledge_partner_id=graphene.String(), title=graphene.String(required=True),
        # "description" is also Field's own keyword, so this argument is declared through args
        args={"description": graphene.Argument(graphene.String, required=True)}, **_amount("requested"),
        start=graphene.Date(required=True), end=graphene.Date(required=True), request_id=request_id_argument(),
        resolver=_with_amount("requested", _rpc("draft_application", with_actor=True, command=True)))
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
        GrantApplication, application_id=graphene.ID(required=True), **_amount("amount"),
        award_date=graphene.Date(required=True),
        reason=graphene.String(description="Required for an award above the amount applied for "
                                           "(award_above_requested otherwise); kept encrypted."),
        request_id=request_id_argument(),
        resolver=_with_amount("amount", _rpc("award_application", with_actor=True, command=True)))
    disburse_grant = graphene.Field(
        Grant, grant_id=graphene.ID(required=True), **_amount("amount"),
        paid_on=graphene.Date(required=True, description="Between the award date and the end of the pool's period, "
                                                         "and not more than a year ahead."),
        request_id=request_id_argument(),
        resolver=_with_amount("amount", _rpc("disburse", with_actor=True, command=True)),
        description="Pay part of an awarded or active grant; answers the grant with its balance.")
    reallocate_commitment = graphene.Field(
        Grant, from_grant_id=graphene.ID(required=True), to_grant_id=graphene.ID(), **_amount("amount"),
        reason=graphene.String(required=True), request_id=request_id_argument(),
        resolver=_with_amount("amount", _rpc("reallocate", with_actor=True, command=True)),
        description="Move undisbursed commitment to another grant of the pool (or release it); answers the "
                    "grant it came from with its new balance.")
    withdraw_commitment = graphene.Field(
        Grant, grant_id=graphene.ID(required=True), reason=graphene.String(required=True),
        request_id=request_id_argument(),
        resolver=_rpc("withdraw_commitment", with_actor=True, command=True),
        description="End a grant: its undisbursed commitment returns to the pool; the grant becomes withdrawn.")
    enter_pool_budget = graphene.Field(
        Pool, pool_code=graphene.String(required=True), **_amount("amount"),
        request_id=request_id_argument(),
        resolver=_with_amount("amount", _rpc("enter_pool_budget", with_actor=True, command=True)))
    approve_finance_committee = graphene.Field(
        Pool, pool_code=graphene.String(required=True), approved_on=graphene.Date(required=True),
        reference=graphene.String(required=True), request_id=request_id_argument(),
        resolver=_rpc("approve_finance_committee", with_actor=True, command=True))
    fulfil_obligation = graphene.Field(
        Obligation, obligation_id=graphene.ID(required=True), fulfilled_on=graphene.Date(required=True),
        request_id=request_id_argument(), resolver=_rpc("fulfil_obligation", with_actor=True, command=True))
