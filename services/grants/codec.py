"""Mapping between domain objects and MongoDB documents. Assessment notes are encrypted here, on the way in."""
from __future__ import annotations

from datetime import date

from kit.fieldcrypt import FieldCipher
from kit.storage import utc
from services.grants.domain.applications import Application, AssessmentNote, State, Transition
from services.grants.domain.balances import Approval, GrantBalance, PoolBalance
from services.grants.domain.obligations import Obligation
from services.grants.domain.organisations import Organisation, Role

# the field each ciphertext belongs to, bound in its associated data (kit.fieldcrypt): a note cannot pass for a reason
NOTE, REASON = "assessment_notes.text", "history.reason"


def organisation_doc(org: Organisation, version: int = 1, history: list | None = None) -> dict:
    """``history``: one entry per change (version, actor, at, changes); names are not personal data here (they
    are organisations'), so the history is stored in the clear like the name itself."""
    return {"_id": org.id, "name": org.name, "roles": sorted(r.value for r in org.roles), "version": version,
            "history": list(history or [])}


def organisation(doc: dict) -> Organisation:
    return Organisation(doc["_id"], doc["name"], frozenset(Role(r) for r in doc["roles"]))


def application_doc(app: Application, cipher: FieldCipher, version: int) -> dict:
    context = f"applications/{app.id}"
    return {
        "_id": app.id, "pool_code": app.pool_code, "applicant_id": app.applicant_id,
        "knowledge_partner_id": app.knowledge_partner_id, "title": app.title, "description": app.description,
        "requested_ore": app.requested_ore, "start": app.start.isoformat(), "end": app.end.isoformat(),
        "state": app.state.value, "version": version, "awarded_ore": app.awarded_ore,
        # reasons are free text like the notes: they may name people, so they are encrypted too
        "history": [{"from": t.from_state.value if t.from_state else None, "to": t.to_state.value,
                     "actor": t.actor, "at": t.at, "reason": cipher.encrypt(t.reason, context, REASON) if t.reason else ""}
                    for t in app.history],
        "assessment_notes": [{"author": n.author, "at": n.at, "text": cipher.encrypt(n.text, context, NOTE)}
                             for n in app.assessment_notes],
    }


def application(doc: dict, cipher: FieldCipher | None = None) -> Application:
    """Rebuild an application; notes are decrypted only when a cipher is given (the officer asked for them)."""
    context = f"applications/{doc['_id']}"
    notes = [AssessmentNote(n["author"], utc(n["at"]), cipher.decrypt(n["text"], context, NOTE) if cipher else "")
             for n in doc.get("assessment_notes", ())]
    return Application(
        id=doc["_id"], pool_code=doc["pool_code"], applicant_id=doc["applicant_id"],
        knowledge_partner_id=doc["knowledge_partner_id"], title=doc["title"], description=doc["description"],
        requested_ore=doc["requested_ore"], start=date.fromisoformat(doc["start"]),
        end=date.fromisoformat(doc["end"]), state=State(doc["state"]),
        history=[Transition(State(t["from"]) if t["from"] else None, State(t["to"]), t["actor"], utc(t["at"]),
                            _reason(t["reason"], cipher, context)) for t in doc["history"]],
        assessment_notes=notes, awarded_ore=doc.get("awarded_ore"),
    )


def _reason(stored: str, cipher: FieldCipher | None, context: str) -> str:
    if not stored:
        return ""
    return cipher.decrypt(stored, context, REASON) if cipher else ""


def pool_doc(balance: PoolBalance, version: int) -> dict:
    approval = balance.approval
    return {"_id": balance.pool, "allocated": balance.allocated, "committed": balance.committed,
            "disbursed": balance.disbursed, "version": version,
            "approval": None if approval is None else {"actor": approval.actor, "approved_on": approval.approved_on,
                                                       "reference": approval.reference,
                                                       "amount_ore": approval.amount_ore}}


def pool_balance(doc: dict) -> PoolBalance:
    approval = doc.get("approval")
    return PoolBalance(doc["_id"], doc["allocated"], doc["committed"], doc["disbursed"],
                       Approval(**approval) if approval else None)


def grant_doc(balance: GrantBalance) -> dict:
    return {"_id": balance.grant_id, "pool": balance.pool, "committed": balance.committed,
            "disbursed": balance.disbursed, "withdrawn": balance.withdrawn, "award_date": balance.award_date}


def grant_balance(doc: dict) -> GrantBalance:
    return GrantBalance(doc["_id"], doc["pool"], doc["committed"], doc["disbursed"], doc["withdrawn"],
                        doc.get("award_date"))


def obligation_doc(ob: Obligation) -> dict:
    return {"_id": ob.id, "grant_id": ob.grant_id, "kind": ob.kind, "responsible_id": ob.responsible_id,
            "due": ob.due.isoformat(), "milestone_code": ob.milestone_code,
            "fulfilled_on": ob.fulfilled_on.isoformat() if ob.fulfilled_on else None,
            "overdue_reported": ob.overdue_reported}


def obligation(doc: dict) -> Obligation:
    return Obligation(doc["_id"], doc["grant_id"], doc["kind"], doc["responsible_id"],
                      date.fromisoformat(doc["due"]), doc["milestone_code"],
                      date.fromisoformat(doc["fulfilled_on"]) if doc["fulfilled_on"] else None,
                      doc["overdue_reported"])
