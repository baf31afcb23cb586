"""Milestones from the amendment and the reporting obligations they put on grantees.

The amendment fixes the mid-term reviews of pools 1 and 2 to "June 2017" (month precision). Outcome documentation
for a review is due by the last day of that month: the latest day the data supports. An officer who wants it
earlier sets the due date explicitly; the code never invents a day the amendment does not state.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Iterable

from .applications import Application
from .errors import InvalidInput, UnknownObligation
from .events import Clock, DomainEvent, aware, require_text
from .pools import Pool
from .reference import ActionPlan, Milestone

OUTCOME_DOCUMENTATION = "outcome_documentation"
OVERDUE = "grants.obligation.overdue"
FULFILLED = "grants.obligation.fulfilled"


@dataclass(frozen=True)
class PlannedMilestone:
    initiative_number: int
    code: str
    title: str
    planned: str | None  # as the amendment states it: "2017-06"
    precision: str
    due: date | None  # None when the amendment gives only words ("by spring 2017")
    planned_text: str | None = None


@dataclass
class Obligation:
    id: str
    grant_id: str
    kind: str
    responsible_id: str  # the organisation that must deliver: the knowledge institution for outcome documentation
    due: date
    milestone_code: str | None = None
    fulfilled_on: date | None = None
    overdue_reported: bool = False  # set once the overdue event is emitted, so it is emitted exactly once

    def is_overdue(self, today: date) -> bool:
        return self.fulfilled_on is None and today > self.due


def milestone_due(milestone: Milestone) -> date | None:
    if milestone.planned is None:
        return None
    if milestone.precision == "month":
        year, month = (int(part) for part in milestone.planned.split("-"))
        return date(year, month, calendar.monthrange(year, month)[1])
    return date.fromisoformat(milestone.planned)


def planned_milestones(plan: ActionPlan) -> list[PlannedMilestone]:
    return [PlannedMilestone(i.number, m.code, m.title, m.planned, m.precision, milestone_due(m), m.planned_text)
            for i in plan.initiatives for m in i.milestones]


def obligations_for(application: Application, pool: Pool, *, final_due: date | None = None) -> list[Obligation]:
    """Outcome documentation owed by the knowledge-institution partner: one per dated milestone of the pool
    that falls inside the grant's period, and a final one when the officer sets ``final_due`` (the amendment
    states no final deadline)."""
    if not pool.requires_knowledge_institution or application.knowledge_partner_id is None:
        return []
    obligations = []
    for milestone in pool.milestones:
        due = milestone_due(milestone)
        if due is not None and application.start <= due <= application.end:
            obligations.append(Obligation(f"{application.id}:{milestone.code}", application.id,
                                          OUTCOME_DOCUMENTATION, application.knowledge_partner_id, due,
                                          milestone.code))
    if final_due is not None:
        if final_due < application.start:
            raise InvalidInput(f"final_due {final_due.isoformat()} is before the grant starts "
                               f"({application.start.isoformat()})", field="final_due")
        obligations.append(Obligation(f"{application.id}:final", application.id, OUTCOME_DOCUMENTATION,
                                      application.knowledge_partner_id, final_due))
    return obligations


def overdue(obligations: Iterable[Obligation], today: date) -> list[Obligation]:
    """Obligations past their due date (the due day itself is still on time) and not fulfilled."""
    return [o for o in obligations if o.is_overdue(today)]


def report_overdue(obligations: Iterable[Obligation], today: date, clock: Clock) -> list[DomainEvent]:
    """One ``grants.obligation.overdue`` event per newly overdue obligation; flags it so a rerun emits nothing."""
    events = []
    for obligation in overdue(obligations, today):
        if obligation.overdue_reported:
            continue
        events.append(DomainEvent(OVERDUE, obligation.grant_id, aware(clock(), "clock"), _data(obligation)))
        obligation.overdue_reported = True
    return events


def fulfil(obligations: Iterable[Obligation], obligation_id: str, *, on: date, actor: str,
           clock: Clock) -> DomainEvent:
    obligation = next((o for o in obligations if o.id == obligation_id), None)
    if obligation is None:
        raise UnknownObligation(f"no obligation with id {obligation_id!r}", obligation_id=obligation_id)
    if obligation.fulfilled_on is not None:
        raise InvalidInput(f"obligation {obligation_id} was already fulfilled on "
                           f"{obligation.fulfilled_on.isoformat()}", field="obligation_id")
    event = DomainEvent(FULFILLED, obligation.grant_id, aware(clock(), "clock"),
                        {**_data(obligation), "fulfilledOn": on.isoformat(), "actor": require_text(actor, "actor"),
                         "late": on > obligation.due})
    obligation.fulfilled_on = on
    return event


def _data(obligation: Obligation) -> dict:
    return {"obligationId": obligation.id, "grantId": obligation.grant_id, "kind": obligation.kind,
            "responsibleId": obligation.responsible_id, "dueOn": obligation.due.isoformat(),
            "milestoneCode": obligation.milestone_code}
