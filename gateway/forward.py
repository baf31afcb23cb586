"""Resolvers that forward GraphQL arguments to a service's RPC method.

Arguments arrive snake_cased by graphene; enums, dates and lists of them become plain JSON values. The caller's
pseudonymous id is added from the request, never taken from arguments.
"""
from __future__ import annotations

import uuid
from datetime import date
from enum import Enum

from gateway.errors import call


def plain(value):
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):  # graphene hands enum arguments over as Python enum members
        return value.value
    return value


def forward(service: str, method: str, *, actor: bool = False, request_id: bool = False, rename=None, shape=None,
            **fixed):
    """``actor``: pass the caller as ``actor``; ``request_id``: make an idempotency key when the client sent
    none, so a redelivered RPC request is recognised; ``shape``: adapt the answer to the GraphQL type."""
    async def resolve(_root, info, **args):
        kwargs = {(rename or {}).get(k, k): plain(v) for k, v in {**fixed, **args}.items()}
        if actor:
            kwargs["actor"] = info.context["actor"]
        if request_id:
            kwargs["request_id"] = kwargs.get("request_id") or uuid.uuid4().hex
        result = await call(info, service, method, **kwargs)
        return shape(result) if shape else result
    return resolve
