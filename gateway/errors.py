"""GraphQL errors with a stable ``extensions.code`` the front-ends can act on."""
from __future__ import annotations

from graphql import GraphQLError

from gateway.rpc import ServiceUnavailable
from kit.errors import CommandRejected


def to_graphql(exc: Exception) -> GraphQLError:
    if isinstance(exc, CommandRejected):
        return GraphQLError(exc.message, extensions={"code": exc.code, "field": exc.field})
    if isinstance(exc, ServiceUnavailable):
        return GraphQLError(str(exc), extensions={"code": "service_unavailable", "service": exc.service})
    return GraphQLError("internal error", extensions={"code": "internal_error"})


async def call(info, service: str, method: str, **kwargs):
    """RPC from a resolver; every failure becomes a GraphQL error with a code, never a stack trace."""
    try:
        return await info.context["rpc"].call(service, method, **kwargs)
    except (CommandRejected, ServiceUnavailable) as exc:
        raise to_graphql(exc) from None
