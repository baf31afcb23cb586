"""The deadline sweep: every deadline of the deadlines file that passed unmet is escalated once, as an event, by
whichever instance sees it first (the escalation is a conditional update, so two sweeps never both send it)."""
from __future__ import annotations

from datetime import datetime

from services.screening.commands.scope import Context
from services.screening.domain import events
from services.screening.domain.deadlines import missed
from services.screening.storage import OPEN_REFERRAL_STATES, REFERRALS, SCREENINGS

CHUNK = 200


def _marks(doc: dict) -> list[tuple[str, datetime]]:
    return [(mark, datetime.fromisoformat(at.replace("Z", "+00:00"))) for mark, at in doc["marks"]]


class DeadlineSweep:
    def __init__(self, ctx: Context) -> None:
        self.ctx, self.store = ctx, ctx.store

    def run(self) -> int:
        now = self.ctx.now()
        sent = 0
        for collection, kind, query in ((SCREENINGS, "screening", {"deadline_open": True}),
                                        (REFERRALS, "referral", {"state": {"$in": list(OPEN_REFERRAL_STATES)}})):
            for doc in self.store.find(collection, query, limit=0):
                for late in missed(self.ctx.deadlines[1], applies_to=kind, marks=_marks(doc), now=now,
                                   escalated=doc["escalated"]):
                    sent += self._escalate(collection, kind, doc, late)
        return sent

    def _escalate(self, collection: str, kind: str, doc: dict, late) -> int:
        version = self.ctx.deadlines[0]

        def work(session):
            # only while this deadline is not yet escalated: the instance that changes the document sends it
            if not self.store.set_if(session, collection, doc["_id"], {"escalated": {"$ne": late.deadline}},
                                     {"escalated": doc["escalated"] + [late.deadline]}):
                return 0
            self.store.emit(session, events.DEADLINE_MISSED, doc["_id"], events.deadline_missed(
                deadline=late.deadline, subject_kind=kind, subject_id=doc["_id"], started_at=late.started_at,
                due_at=late.due_at, escalate_to=late.escalate_to, version=version))
            return 1
        return self.store.transaction(work)
