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


def organisation_view(org: Organisation, version: int | None = None, history: list | None = None) -> dict:
    view = {"id": org.id, "name": org.name, "roles": sorted(r.value for r in org.roles)}
    if version is not None:
        view["version"] = version
        view["history"] = [change_view(h) for h in history or ()]
    return view


def change_view(entry: dict) -> dict:
    """One entry of an organisation's history; each change as field, before and after (text, for GraphQL)."""
    changes = []
    for field_name, change in sorted(entry.get("changes", {}).items()):
        if field_name == "registered":
            changes.append({"field": "registered", "before": None,
                            "after": f"{change['name']} ({', '.join(change['roles'])})"})
        else:
            show = (lambda v: ", ".join(v) if isinstance(v, list) else v)
            changes.append({"field": field_name, "before": show(change["from"]), "after": show(change["to"])})
    return {"version": entry["version"], "actor": entry.get("actor"), "at": entry["at"], "changes": changes}


def application_view(app: Application) -> dict:
    return {
        "id": app.id, "pool_code": app.pool_code, "applicant_id": app.applicant_id,
        "knowledge_partner_id": app.knowledge_partner_id, "title": app.title, "description": app.description,
        "requested_ore": app.requested_ore, "start": app.start.isoformat(), "end": app.end.isoformat(),
        "state": app.state.value, "note_count": len(app.assessment_notes), "awarded_ore": app.awarded_ore,
        "history": [{"from_state": t.from_state.value if t.from_state else None, "to_state": t.to_state.value,
                     "actor": t.actor, "at": t.at.isoformat()} for t in app.history],
    }


def application_doc_view(doc: dict) -> dict:
    """A stored application without its notes (``note_count`` from ``GrantsStore.application_docs``)."""
    return {
        "id": doc["_id"], "pool_code": doc["pool_code"], "applicant_id": doc["applicant_id"],
        "knowledge_partner_id": doc["knowledge_partner_id"], "title": doc["title"],
        "description": doc["description"], "requested_ore": doc["requested_ore"], "start": doc["start"],
        "end": doc["end"], "state": doc["state"], "note_count": doc.get("note_count", 0),
        "awarded_ore": doc.get("awarded_ore"),
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
            "undisbursed_ore": grant.undisbursed, "withdrawn": grant.withdrawn, "award_date": grant.award_date}


def grant_view(application: dict, balance: GrantBalance | None, obligations: list) -> dict:
    """A grant: its application (state included: ``withdrawn`` after a withdrawal), its balance and obligations."""
    return {"id": application["id"], "state": application["state"], "application": application,
            "balance": None if balance is None else grant_balance_view(balance), "obligations": obligations}


def audit_view(stored: Balances, recomputed: Balances) -> dict:
    """The ledger audit: per pool and per grant, stored figures beside those recomputed from the ledger's events,
    with each difference (stored minus recomputed; 0 when they agree)."""
    def figures(pool: PoolBalance | None) -> dict:
        return {"allocated_ore": None if pool is None else pool.allocated,
                "committed_ore": 0 if pool is None else pool.committed,
                "disbursed_ore": 0 if pool is None else pool.disbursed}

    def diff(a, b):
        return None if a is None or b is None else a - b

    pools = []
    for code in sorted(set(stored.pools) | set(recomputed.pools)):
        s, r = figures(stored.pools.get(code)), figures(recomputed.pools.get(code))
        differences = {k: diff(s[k], r[k]) for k in s}
        pools.append({"code": code, "stored": s, "recomputed": r, "difference": differences,
                      "agrees": s == r})
    grants = []
    for grant_id in sorted(set(stored.grants) | set(recomputed.grants)):
        s, r = stored.grants.get(grant_id), recomputed.grants.get(grant_id)
        fs = {"committed_ore": s.committed if s else 0, "disbursed_ore": s.disbursed if s else 0}
        fr = {"committed_ore": r.committed if r else 0, "disbursed_ore": r.disbursed if r else 0}
        grants.append({"grant_id": grant_id, "stored": fs, "recomputed": fr,
                       "difference": {k: fs[k] - fr[k] for k in fs}, "agrees": fs == fr})
    return {"agrees": all(p["agrees"] for p in pools) and all(g["agrees"] for g in grants), "pools": pools,
            "grants": grants}


def _iso(moment) -> str:
    return moment.isoformat() if hasattr(moment, "isoformat") else str(moment)
