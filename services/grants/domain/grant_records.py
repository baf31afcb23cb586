"""Publishable grant records: an awarded application joined with its money flows from the ledger's events.

The open-data exports (360Giving JSON, CSV) read only these records, so what is published is decided here once:
awarded, active and closed grants; no assessment notes, no actor ids, no reasons.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Mapping

from . import balances as b
from .applications import Application, State
from .events import DomainEvent
from .organisations import Directory, Organisation
from .pools import Pool, resolve
from .reference import ActionPlan

PUBLISHED_STATES = frozenset({State.AWARDED, State.ACTIVE, State.CLOSED})


@dataclass(frozen=True)
class Flow:
    id: str
    on: date
    ore: int  # negative for a commitment reduced by reallocation or withdrawal


@dataclass(frozen=True)
class GrantRecord:
    grant_id: str
    title: str
    description: str
    pool: Pool
    recipient: Organisation
    partner: Organisation | None
    requested_ore: int
    award_date: date
    start: date
    end: date
    actual_start: date | None
    actual_end: date | None
    commitments: tuple[Flow, ...]
    disbursements: tuple[Flow, ...]

    @property
    def awarded_ore(self) -> int:
        return sum(f.ore for f in self.commitments)

    @property
    def disbursed_ore(self) -> int:
        return sum(f.ore for f in self.disbursements)


def grant_records(applications: Iterable[Application], ledger_events: Iterable[DomainEvent | Mapping],
                  directory: Directory, plan: ActionPlan) -> list[GrantRecord]:
    flows = _flows_by_grant(ledger_events)
    records = []
    for app in applications:
        commitments, disbursements, award_date = flows.get(app.id, ([], [], None))
        if app.state not in PUBLISHED_STATES or award_date is None:
            continue
        records.append(GrantRecord(
            grant_id=app.id, title=app.title, description=app.description, pool=resolve(plan, app.pool_code),
            recipient=directory.get(app.applicant_id, field="applicant"),
            partner=directory.get(app.knowledge_partner_id) if app.knowledge_partner_id else None,
            requested_ore=app.requested_ore, award_date=award_date, start=app.start, end=app.end,
            actual_start=_day(app.time_of(State.ACTIVE)), actual_end=_day(app.time_of(State.CLOSED)),
            commitments=tuple(commitments), disbursements=tuple(disbursements),
        ))
    return records


def _flows_by_grant(events: Iterable[DomainEvent | Mapping]):
    flows: dict[str, tuple[list[Flow], list[Flow], date | None]] = {}

    def add(grant_id: str, which: int, ore: int, on: date) -> None:
        entry = flows.setdefault(grant_id, ([], [], None))
        entry[which].append(Flow(f"{grant_id}-{'cd'[which]}{len(entry[which]) + 1}", on, ore))

    for event in events:
        kind, time, data = _unpack(event)
        if kind == b.AWARD_COMMITTED:
            award_date = date.fromisoformat(data["awardDate"])
            flows[data["grantId"]] = ([], [], award_date)
            add(data["grantId"], 0, data["amountOre"], award_date)
        elif kind == b.DISBURSEMENT_MADE:
            add(data["grantId"], 1, data["amountOre"], date.fromisoformat(data["paidOn"]))
        elif kind == b.COMMITMENT_REALLOCATED:
            add(data["fromGrantId"], 0, -data["amountOre"], time.date())
            if data["toGrantId"] is not None:
                add(data["toGrantId"], 0, data["amountOre"], time.date())
        elif kind == b.COMMITMENT_WITHDRAWN and data["amountOre"]:
            add(data["grantId"], 0, -data["amountOre"], time.date())
    return flows


def _unpack(event: DomainEvent | Mapping) -> tuple[str, datetime, Mapping]:
    if isinstance(event, DomainEvent):
        return event.type, event.time, event.data
    return event["type"], datetime.fromisoformat(event["time"]), event["data"]


def _day(moment: datetime | None) -> date | None:
    return moment.date() if moment else None
