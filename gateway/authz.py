"""Authorization at the edge: every GraphQL root field is checked against the policy file (kit.policy) before its
resolver runs, so a refused field makes no RPC at all.

    from gateway.authz import AuthorizationMiddleware
    GraphQL(schema, middleware=[AuthorizationMiddleware(schema)], ...)

The caller is ``info.context["principal"]`` (kit.principal.Principal, set by the authentication step); a context
without one is treated as anonymous. A refused field answers ``extensions.code`` ``unauthenticated`` for an
anonymous caller (sign in) and ``forbidden`` otherwise; the message names neither the data nor why the policy
refused, and the field's value is null. The services check the same policy again (kit/nameko_kit.py) and apply the
scope (own organisation, own region) to what they answer.

Subscriptions: graphql-core resolves a subscription's root field through its ``subscribe`` function, not through
middleware, so a subscription resolver must call ``authorize(info)`` itself.
"""
from __future__ import annotations

import logging

from graphql import GraphQLError

from kit.policy import Decision, Policy
from kit.policy import policy as default_policy
from kit.principal import ANONYMOUS

log = logging.getLogger("actionplan.gateway.authz")

FORBIDDEN = "forbidden"
UNAUTHENTICATED = "unauthenticated"
ROOTS = ("Query", "Mutation", "Subscription")


def principal_of(info):
    context = info.context
    found = context.get("principal") if isinstance(context, dict) else getattr(context, "principal", None)
    return found if found is not None else ANONYMOUS


def refusal(principal) -> GraphQLError:
    if getattr(principal, "anonymous", True):
        return GraphQLError("this field needs a signed-in caller (a bearer token)",
                            extensions={"code": UNAUTHENTICATED})
    return GraphQLError("the caller's role may not use this field", extensions={"code": FORBIDDEN})


def authorize(info, policy: Policy | None = None) -> Decision:
    """Check the root field ``info`` resolves; raises the refusal (a GraphQLError with a code) when denied."""
    operation = f"{info.parent_type.name}.{info.field_name}"
    principal = principal_of(info)
    decision = (policy or default_policy()).decide(principal, operation)
    if not decision.allowed:
        log.info("refused %s for role %s: %s", operation, getattr(principal, "role", "?"), decision.reason)
        raise refusal(principal)
    return decision


class AuthorizationMiddleware:
    """graphql-core middleware: refuses a root field the caller may not use, before its resolver runs.

    ``AuthorizationMiddleware(schema=None, policy=None)``: ``schema`` (a graphene Schema or a graphql-core
    GraphQLSchema) is checked at construction: a root field without a policy entry, or a policy entry for a field
    the schema lacks, raises ``kit.policy.PolicyError`` (the gateway does not start). ``policy`` defaults to the
    process's policy file. The decision is kept in ``info.context["authorization"][operation]``."""

    def __init__(self, schema=None, policy: Policy | None = None) -> None:
        self.policy = policy or default_policy()
        if schema is not None:
            self.policy.check_schema(getattr(schema, "graphql_schema", schema))

    def resolve(self, next_, root, info, **args):
        if info.path.prev is None and info.parent_type.name in ROOTS and not info.field_name.startswith("__"):
            decision = authorize(info, self.policy)
            if isinstance(info.context, dict):
                info.context.setdefault("authorization", {})[f"{info.parent_type.name}.{info.field_name}"] = decision
        return next_(root, info, **args)
