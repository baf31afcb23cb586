"""The gateway's GraphQL schema (graphene): one view of the amendment stitched from the services over RPC.

The checked-in SDL in schemas/graphql/schema.graphql is generated from this module; a test fails when they differ.
"""
from __future__ import annotations

import graphene

from gateway.access_log import AccessLogQuery
from gateway.errors import call
from gateway.grants import GrantsMutation, GrantsQuery
from gateway.outreach import OutreachMutation, OutreachQuery
from gateway.screening import ScreeningMutation, ScreeningQuery
from gateway.triage import TriageMutation, TriageQuery
from gateway.types import Period
from gateway.scalars import Ore, dkk


class Milestone(graphene.ObjectType):
    code = graphene.String(required=True)
    title = graphene.String(required=True)
    planned = graphene.String(description="ISO partial date such as 2017-06; null when only text is known.")
    planned_text = graphene.String(description="The amendment's own words where it gives no date.")
    precision = graphene.String(required=True)


class Region(graphene.ObjectType):
    name = graphene.String(required=True)
    country_code = graphene.String(required=True)
    geo_code = graphene.String()
    geo_code_type = graphene.String()


class Funding(graphene.ObjectType):
    code = graphene.String(required=True)
    title = graphene.String(required=True)
    recipient_name = graphene.String(required=True)
    budget_ore = Ore(description="Null until the amount is known; the amendment does not state it.")
    budget_dkk = graphene.Decimal()
    period = graphene.Field(Period, required=True)
    requires_finance_committee_approval = graphene.Boolean(required=True)
    region = graphene.Field(Region)

    @staticmethod
    def resolve_budget_dkk(parent, _info):
        return dkk(parent.get("budget_ore"))


class Initiative(graphene.ObjectType):
    number = graphene.Int(required=True)
    code = graphene.String(required=True)
    title = graphene.String(required=True)
    kind = graphene.String(required=True, description="grant_pool, programme or evaluation")
    budget_ore = Ore(description="Null where the amendment states no amount.")
    budget_dkk = graphene.Decimal(description="Exact DKK; null where the amendment states no amount.")
    period = graphene.Field(Period, required=True)
    requires_knowledge_institution = graphene.Boolean(required=True)
    requires_finance_committee_approval = graphene.Boolean(required=True)
    milestones = graphene.List(graphene.NonNull(Milestone), required=True)
    fundings = graphene.List(graphene.NonNull(Funding), required=True)
    follow_up_group = graphene.List(graphene.NonNull(graphene.String), required=True)

    @staticmethod
    def resolve_budget_dkk(parent, _info):
        return dkk(parent.get("budget_ore"))


class ActionPlan(graphene.ObjectType):
    id = graphene.ID(required=True)
    title = graphene.String(required=True)
    currency = graphene.String(required=True)
    funder_id = graphene.String(required=True)
    funder_name = graphene.String(required=True)
    initiatives = graphene.List(graphene.NonNull(Initiative), required=True)


class InitiativeCount(graphene.ObjectType):
    initiative = graphene.Int(required=True)
    count = graphene.Int(required=True)


class ActivityMetric(graphene.ObjectType):
    metric = graphene.String(required=True)
    counts = graphene.List(graphene.NonNull(InitiativeCount), required=True)


class Evaluation(graphene.ObjectType):
    activity = graphene.List(graphene.NonNull(ActivityMetric), required=True,
                             description="Counts of facts per initiative, as the evaluation service has consumed them.")

    @staticmethod
    async def resolve_activity(_parent, info):
        counts = await call(info, "evaluation", "activity_counts")
        return [{"metric": metric, "counts": per} for metric, per in sorted(counts.items())]


class Query(AccessLogQuery, ScreeningQuery, OutreachQuery, TriageQuery, GrantsQuery, graphene.ObjectType):
    action_plan = graphene.Field(ActionPlan, required=True, description="The amendment and its four initiatives.")
    evaluation = graphene.Field(Evaluation, required=True)

    @staticmethod
    async def resolve_action_plan(_root, info):
        return await call(info, "grants", "get_action_plan")

    @staticmethod
    def resolve_evaluation(_root, _info):
        return {}


class Mutation(ScreeningMutation, OutreachMutation, TriageMutation, GrantsMutation, graphene.ObjectType):
    pass


def build_schema() -> graphene.Schema:
    return graphene.Schema(query=Query, mutation=Mutation)
