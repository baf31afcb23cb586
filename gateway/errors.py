"""GraphQL errors with a stable ``extensions.code`` the front-ends can act on."""
from __future__ import annotations

import logging

from graphql import GraphQLError
from nameko.exceptions import RemoteError

from gateway.rpc import ServiceUnavailable
from kit.errors import CommandRejected

log = logging.getLogger("actionplan.gateway")


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
    except RemoteError as exc:
        # a fault inside a service: log its type for operators, tell the client no internals
        log.error("%s.%s failed remotely: %s", service, method, exc.exc_type)
        raise to_graphql(exc) from None
