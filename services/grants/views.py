"""Plain, JSON-ready views for RPC answers (snake_case keys; the gateway camel-cases them).

Views never include assessment notes or transition reasons: those are read only through their own call.
"""
from __future__ import annotations

import dataclasses
from datetime import date, datetime
from enum import Enum

from services.grants.domain.applications import Application
from services.grants.domain.balances import Balances, GrantBalance, PoolBalance
from services.grants.domain.organisations import Organisation


def plain(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def organisation_view(org: Organisation) -> dict:
    return {"id": org.id, "name": org.name, "roles": sorted(r.value for r in org.roles)}


def application_view(app: Application) -> dict:
    return {
        "id": app.id, "pool_code": app.pool_code, "applicant_id": app.applicant_id,
        "knowledge_partner_id": app.knowledge_partner_id, "title": app.title, "description": app.description,
        "requested_ore": app.requested_ore, "start": app.start.isoformat(), "end": app.end.isoformat(),
        "state": app.state.value, "note_count": len(app.assessment_notes),
        "history": [{"from_state": t.from_state.value if t.from_state else None, "to_state": t.to_state.value,
                     "actor": t.actor, "at": t.at.isoformat()} for t in app.history],
    }


def application_doc_view(doc: dict) -> dict:
    """A stored application without decrypting anything (list views never need the notes)."""
    return {
        "id": doc["_id"], "pool_code": doc["pool_code"], "applicant_id": doc["applicant_id"],
        "knowledge_partner_id": doc["knowledge_partner_id"], "title": doc["title"],
        "description": doc["description"], "requested_ore": doc["requested_ore"], "start": doc["start"],
        "end": doc["end"], "state": doc["state"], "note_count": len(doc.get("assessment_notes", ())),
        "history": [{"from_state": t["from"], "to_state": t["to"], "actor": t["actor"],
                     "at": _iso(t["at"])} for t in doc["history"]],
    }


def pool_view(pool: PoolBalance, balances: Balances) -> dict:
    grants = [g for g in balances.grants.values() if g.pool == pool.pool]
    approval = pool.approval
    return {"code": pool.pool, "allocated_ore": pool.allocated, "committed_ore": pool.committed,
            "disbursed_ore": pool.disbursed, "remaining_ore": pool.remaining,
            "grant_count": sum(1 for g in grants if not g.withdrawn),
            "finance_committee_approval": None if approval is None else {
                "approved_on": approval.approved_on, "reference": approval.reference,
                "amount_ore": approval.amount_ore}}


def grant_balance_view(grant: GrantBalance) -> dict:
    return {"committed_ore": grant.committed, "disbursed_ore": grant.disbursed,
            "undisbursed_ore": grant.undisbursed, "withdrawn": grant.withdrawn}


def _iso(moment) -> str:
    return moment.isoformat() if hasattr(moment, "isoformat") else str(moment)
