"""Resolvers that forward GraphQL arguments to a service's RPC method.

Arguments arrive snake_cased by graphene; enums, dates and lists of them become plain JSON values. The caller's
pseudonymous id (the authenticated principal's subject) is added from the request, never taken from arguments. A
command's ``requestId`` is the client's: the gateway forwards it as ``request_id`` and never makes one up (a key made
per call would let a client's retry after a timeout run the command a second time).
"""
from __future__ import annotations

from datetime import date
from enum import Enum

import graphene
from graphql import GraphQLError

from gateway.errors import call, principal_of

REQUEST_ID_DESCRIPTION = (
    "Idempotency key of this command, chosen by the client (8 to 100 letters, digits, . _ : or -): one new key per "
    "command. A retry of the command (after a timeout, outcome_unknown or a lost connection) must reuse the same key "
    "and the same arguments: the service then runs it at most once and answers the retry with the first answer.")


def request_id_argument() -> graphene.String:
    """The required ``requestId`` argument every state-changing mutation declares."""
    return graphene.String(required=True, description=REQUEST_ID_DESCRIPTION)


def plain(value):
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):  # graphene hands enum arguments over as Python enum members
        return value.value
    return value


def forward(service: str, method: str, *, actor: bool = False, command: bool = False, rename=None, shape=None,
            **fixed):
    """``actor``: pass the caller as ``actor``; ``command``: the call changes state: its ``requestId`` argument is
    forwarded as ``request_id`` and an unanswered call is reported as ``outcome_unknown``; ``shape``: adapt the
    answer to the GraphQL type."""
    async def resolve(_root, info, **args):
        kwargs = {(rename or {}).get(k, k): plain(v) for k, v in {**fixed, **args}.items()}
        if actor:
            kwargs["actor"] = principal_of(info).subject
        if command and kwargs.get("request_id") is None:  # the schema requires it; never invent one
            raise missing_request_id()
        result = await call(info, service, method, command=command, **kwargs)
        return shape(result) if shape else result
    return resolve


def missing_request_id() -> GraphQLError:
    return GraphQLError("requestId is required: choose one per command and reuse it to retry",
                        extensions={"code": "invalid_arguments", "field": "requestId"})
