"""GraphQL for the access log: the data protection officer asks who touched a data subject, or what a principal
touched. Rows are read from the gateway's own database (``gateway/audit.py``), newest first, in pages.

The log is found as ``info.context["access_log"]`` (an ``AccessLog``) and the caller as
``info.context["principal"]``; besides the policy file's check, these resolvers answer only ``READ_ROLES``.
"""
from __future__ import annotations

import graphene
from graphql import GraphQLError

from gateway.audit import MAX_ID, SUBJECT_KINDS, cursor_of, seq_of

READ_ROLES = frozenset({"dpo"})
DEFAULT_PAGE, MAX_PAGE = 50, 200


class AccessLogSubject(graphene.ObjectType):
    kind = graphene.String(required=True, description="application, ad, organisation, person, ...")
    id = graphene.ID(required=True, description="The subject's pseudonymous id")


class AccessLogEntry(graphene.ObjectType):
    seq = graphene.Int(required=True, description="Position in the hash chain")
    at = graphene.String(required=True)
    operation_id = graphene.String(required=True, description="Shared by the rows of one operation")
    phase = graphene.String(required=True, description="open (before execution) or close (after, with status)")
    principal = graphene.String(description="The caller's pseudonymous subject; null when anonymous")
    role = graphene.String()
    organisation = graphene.String()
    region = graphene.String()
    operation_type = graphene.String(required=True, description="query, mutation or subscription")
    fields = graphene.List(graphene.NonNull(graphene.String), required=True,
                           description="Root fields of the operation, from the server's parse")
    transport = graphene.String(required=True, description="http or websocket")
    status = graphene.String(description="Outcome code of a close row")
    trace_id = graphene.String()
    subject = graphene.Field(AccessLogSubject, description="The data subject this row records; null: none")


class AccessLogPageInfo(graphene.ObjectType):
    end_cursor = graphene.String()
    has_next_page = graphene.Boolean(required=True)


class AccessLogPage(graphene.ObjectType):
    total_count = graphene.Int(required=True)
    entries = graphene.List(graphene.NonNull(AccessLogEntry), required=True)
    page_info = graphene.Field(AccessLogPageInfo, required=True)


def _invalid(message: str, field: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "invalid_input", "field": field})


def _allowed(info) -> None:
    principal = info.context.get("principal") if isinstance(info.context, dict) else None
    if getattr(principal, "role", None) not in READ_ROLES:
        raise GraphQLError("not allowed", extensions={"code": "forbidden"})


def _page_args(first, after) -> tuple[int, int | None]:
    size = DEFAULT_PAGE if first is None else first
    if not 1 <= size <= MAX_PAGE:
        raise _invalid(f"first must be between 1 and {MAX_PAGE}", "first")
    before = None
    if after is not None:
        before = seq_of(after)
        if before is None:
            raise _invalid("after is not a cursor this API gave out", "after")
    return size, before


def _view(row: dict) -> dict:
    at = row.get("at")
    return {"seq": row["seq"], "at": at.isoformat() if hasattr(at, "isoformat") else str(at),
            "operation_id": row.get("op"), "phase": row.get("phase"), "principal": row.get("principal"),
            "role": row.get("role"), "organisation": row.get("organisation"), "region": row.get("region"),
            "operation_type": row.get("operationType"), "fields": row.get("fields") or [],
            "transport": row.get("transport"), "status": row.get("status"), "trace_id": row.get("traceId"),
            "subject": row.get("subject")}


def _page(found) -> dict:
    rows, more, total = found
    entries = [_view(r) for r in rows]
    return {"total_count": total, "entries": entries,
            "page_info": {"end_cursor": cursor_of(rows[-1]["seq"]) if rows else None, "has_next_page": more}}


def _log(info):
    access_log = info.context.get("access_log") if isinstance(info.context, dict) else None
    if access_log is None:
        raise GraphQLError("the access log is not available", extensions={"code": "service_unavailable",
                                                                            "service": "access_log"})
    return access_log


async def resolve_for_subject(_root, info, kind, id, first=None, after=None):
    _allowed(info)
    if kind not in SUBJECT_KINDS:
        raise _invalid(f"kind must be one of {', '.join(sorted(SUBJECT_KINDS))}", "kind")
    if not id or len(id) > MAX_ID:
        raise _invalid("id is not a subject id", "id")
    size, before = _page_args(first, after)
    return _page(await _log(info).entries_for_subject(kind, id, first=size, after=before))


async def resolve_for_principal(_root, info, subject, first=None, after=None):
    _allowed(info)
    if not subject or len(subject) > 128:
        raise _invalid("subject is not a principal's subject", "subject")
    size, before = _page_args(first, after)
    return _page(await _log(info).entries_for_principal(subject, first=size, after=before))


class AccessLogQuery(graphene.ObjectType):
    access_log_for_subject = graphene.Field(
        AccessLogPage, required=True, kind=graphene.String(required=True), id=graphene.ID(required=True),
        first=graphene.Int(), after=graphene.String(), resolver=resolve_for_subject,
        description="Who touched this data subject, newest first (data protection officer).")
    access_log_for_principal = graphene.Field(
        AccessLogPage, required=True, subject=graphene.String(required=True), first=graphene.Int(),
        after=graphene.String(), resolver=resolve_for_principal,
        description="What this principal did and which data subjects it touched, newest first (data protection "
                    "officer).")
