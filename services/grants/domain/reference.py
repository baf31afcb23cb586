"""The amendment's reference data: initiatives, pools, periods and milestones.

Every figure comes from the data file shipped with the service; nothing here states an amount. An amount the
amendment does not give stays ``None`` so no screen can show an invented figure.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "action_plan.json"


class ReferenceDataError(ValueError):
    """The reference data file is missing a field or holds a value of the wrong kind."""


@dataclass(frozen=True)
class Period:
    start: date | None
    end: date | None

    def contains(self, start: date, end: date) -> bool:
        return (self.start is None or start >= self.start) and (self.end is None or end <= self.end)


@dataclass(frozen=True)
class Milestone:
    code: str
    title: str
    planned: str | None  # ISO partial date ("2017-06"): the amendment gives months, not days
    precision: str
    planned_text: str | None = None


@dataclass(frozen=True)
class Region:
    name: str
    country_code: str
    geo_code: str | None
    geo_code_type: str | None


@dataclass(frozen=True)
class Funding:
    """A named allocation inside an initiative, such as Pro Vest's Region Zealand funding."""
    code: str
    title: str
    recipient_name: str
    budget_ore: int | None
    period: Period
    requires_finance_committee_approval: bool
    region: Region | None


@dataclass(frozen=True)
class Initiative:
    number: int
    code: str
    title: str
    kind: str
    budget_ore: int | None
    period: Period
    requires_knowledge_institution: bool
    requires_finance_committee_approval: bool
    region: Region | None
    milestones: tuple[Milestone, ...]
    fundings: tuple[Funding, ...] = ()
    follow_up_group: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActionPlan:
    id: str
    title: str
    currency: str
    funder_id: str
    funder_name: str
    initiatives: tuple[Initiative, ...] = field(default_factory=tuple)

    def initiative(self, number: int) -> Initiative:
        for initiative in self.initiatives:
            if initiative.number == number:
                return initiative
        raise KeyError(number)


def load(path: Path | str = DEFAULT_PATH) -> ActionPlan:
    with open(path, encoding="utf-8") as fh:
        raw = json.load(fh)
    try:
        return _plan(raw["actionPlan"])
    except KeyError as missing:
        raise ReferenceDataError(f"{path}: missing field {missing}") from None


def _plan(raw: dict) -> ActionPlan:
    return ActionPlan(
        id=raw["id"], title=raw["title"], currency=raw["currency"],
        funder_id=raw["fundingOrganization"]["id"], funder_name=raw["fundingOrganization"]["name"],
        initiatives=tuple(_initiative(i) for i in raw["initiatives"]),
    )


def _initiative(raw: dict) -> Initiative:
    return Initiative(
        number=raw["number"], code=raw["code"], title=raw["title"], kind=raw["kind"],
        budget_ore=_ore(raw["budgetOre"], raw["code"]),
        period=_period(raw["period"]),
        requires_knowledge_institution=bool(raw["requiresKnowledgeInstitution"]),
        requires_finance_committee_approval=bool(raw["requiresFinanceCommitteeApproval"]),
        region=_region(raw.get("region")),
        milestones=tuple(
            Milestone(code=m["code"], title=m["title"], planned=m.get("planned"), precision=m["precision"],
                      planned_text=m.get("plannedText"))
            for m in raw["milestones"]
        ),
        fundings=tuple(_funding(f) for f in raw.get("fundings", ())),
        follow_up_group=tuple(raw.get("followUpGroup", ())),
    )


def _funding(raw: dict) -> Funding:
    return Funding(
        code=raw["code"], title=raw["title"], recipient_name=raw["recipientName"],
        budget_ore=_ore(raw["budgetOre"], raw["code"]), period=_period(raw["period"]),
        requires_finance_committee_approval=bool(raw["requiresFinanceCommitteeApproval"]),
        region=_region(raw.get("region")),
    )


def _ore(value, where: str) -> int | None:
    # bool is an int subclass; a float would let fractional øre in through the data file
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    raise ReferenceDataError(f"{where}: budgetOre must be a non-negative integer or null, got {value!r}")


def _period(raw: dict) -> Period:
    return Period(
        start=date.fromisoformat(raw["start"]) if raw.get("start") else None,
        end=date.fromisoformat(raw["end"]) if raw.get("end") else None,
    )


def _region(raw: dict | None) -> Region | None:
    if not raw:
        return None
    return Region(name=raw["name"], country_code=raw["countryCode"], geo_code=raw.get("geoCode"),
                  geo_code_type=raw.get("geoCodeType"))
