"""GraphQL errors with a stable ``extensions.code`` the front-ends can act on.

Codes of failures outside the service's own rules:

* ``service_unavailable``: the request was not run (no instance of the service, or no broker); try again later;
* ``outcome_unknown`` (commands): the command was sent but no answer came in time; it may or may not have run.
  Retry it with the same ``requestId``: the service answers a retry with the first run's answer, and runs it if the
  first attempt never ran (an abandoned request is refused once its deadline has passed, so it cannot run later);
* ``service_timeout`` (queries): no answer in time; ask again;
* ``internal_error``: a fault inside a service (logged; no internals are told).
"""
from __future__ import annotations

import logging

from graphql import GraphQLError
from nameko.exceptions import RemoteError

from gateway.rpc import NoAnswer, ServiceUnavailable
from kit.errors import CommandRejected

log = logging.getLogger("actionplan.gateway")

OUTCOME_UNKNOWN = ("the command may or may not have run (no answer in time); retry it with the same requestId, "
                   "which runs it at most once")


def to_graphql(exc: Exception, *, command: bool = False) -> GraphQLError:
    if isinstance(exc, CommandRejected):
        return GraphQLError(exc.message, extensions={"code": exc.code, "field": exc.field})
    if isinstance(exc, ServiceUnavailable):
        return GraphQLError(str(exc), extensions={"code": "service_unavailable", "service": exc.service})
    if isinstance(exc, NoAnswer):
        if command:
            return GraphQLError(OUTCOME_UNKNOWN, extensions={"code": "outcome_unknown", "service": exc.service})
        return GraphQLError(f"{exc}; ask again", extensions={"code": "service_timeout", "service": exc.service})
    return GraphQLError("internal error", extensions={"code": "internal_error"})


async def call(info, service: str, method: str, *, command: bool = False, **kwargs):
    """RPC from a resolver; every failure becomes a GraphQL error with a code, never a stack trace.

    ``command``: the call changes state (it carries the client's ``request_id``), so a call without an answer is
    reported as ``outcome_unknown`` rather than as a timeout to simply ask again."""
    try:
        return await info.context["rpc"].call(service, method, **kwargs)
    except (CommandRejected, ServiceUnavailable, NoAnswer) as exc:
        if isinstance(exc, NoAnswer):
            log.warning("%s.%s: %s", service, method, exc)
        raise to_graphql(exc, command=command) from None
    except RemoteError as exc:
        # a fault inside a service: log its type for operators, tell the client no internals
        log.error("%s.%s failed remotely: %s", service, method, exc.exc_type)
        raise to_graphql(exc) from None
