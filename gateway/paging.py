"""What every service's GraphQL module shares: resolvers that forward their arguments to one RPC method, Relay
connections bounded by ``first``, and reading an answer's keys.

A list is a Relay-style connection whose size is bounded by ``first`` (1..``MAX_PAGE``, default ``DEFAULT_PAGE``), so
a query's cost is bounded (``gateway/limits.py`` also caps ``first`` on the request)."""
from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any, Mapping

import graphene
from graphql import GraphQLError

from gateway.forward import forward
from gateway.types import day

DEFAULT_PAGE, MAX_PAGE = 20, 100


def answer_key(parent, key: str):
    """A key of an RPC answer (snake_case), or its camelCase spelling (reference data keep the data files' keys)."""
    if isinstance(parent, Mapping):
        if key in parent:
            return parent[key]
        head, *rest = key.split("_")
        return parent.get(head + "".join(part.title() for part in rest))
    return getattr(parent, key, None)


def date_field(key: str, **kwargs) -> graphene.Date:
    """A date field from an ISO date string of the answer."""
    return graphene.Date(resolver=lambda parent, _info: day(answer_key(parent, key)), **kwargs)


def plain(value):
    """GraphQL input (input objects, enums, dates, lists of them) as plain JSON values for the RPC."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def invalid(message: str, field: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "invalid_input", "field": field})


def connection(page: Mapping[str, Any]) -> dict:
    """The service's page ``{items (each with its cursor), total, end_cursor, has_next_page}`` as a Relay
    connection."""
    items = list(page.get("items") or ())
    return {"edges": [{"cursor": item["cursor"], "node": item} for item in items],
            "page_info": {"has_next_page": bool(page.get("has_next_page")), "end_cursor": page.get("end_cursor")},
            "total_count": page.get("total", len(items))}


def resolver(service: str, method: str, *, command: bool = False, paged: bool = False, rename=None):
    """A resolver forwarding its (plain) arguments to ``<service>.<method>``; commands carry the caller as actor and
    the client's requestId; a paged read checks ``first`` and answers a connection."""
    inner = forward(service, method, actor=command, command=command, rename=rename,
                    shape=connection if paged else None)

    async def resolve(root, info, **args):
        if paged:
            first = args.get("first")
            if first is None:
                args["first"] = DEFAULT_PAGE
            elif not 1 <= first <= MAX_PAGE:
                raise invalid(f"first must be between 1 and {MAX_PAGE}", "first")
        return await inner(root, info, **{k: plain(v) for k, v in args.items()})
    return resolve


def page_args() -> dict:
    return {"first": graphene.Int(default_value=DEFAULT_PAGE,
                                  description=f"How many to answer: 1 to {MAX_PAGE} (default {DEFAULT_PAGE})."),
            "after": graphene.String(description="endCursor of the previous page (invalid_cursor otherwise).")}


class PageInfo(graphene.ObjectType):
    has_next_page = graphene.Boolean(required=True)
    end_cursor = graphene.String(description="Give it as after to get the next page; null on an empty page")
