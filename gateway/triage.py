"""GraphQL for the ad triage service (initiative 1): composed into the gateway's Query and Mutation."""
from __future__ import annotations

import graphene


class TriageQuery(graphene.ObjectType):
    pass


class TriageMutation(graphene.ObjectType):
    pass
