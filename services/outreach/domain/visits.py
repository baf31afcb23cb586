"""Systematic screening visits: what a visit record may hold, who may plan one where, and when the next is due.

People met are counts by language group, never names: a visit record must not become a list of persons. The
revisit interval follows the venue's concern level (rules as data: weekly at high concern); a planned visit not
made by its due date becomes overdue once, and the sweep publishes that.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Mapping

from .concern import ConcernRules, revisit_days
from .errors import InvalidDate, InvalidVisit
from .reference import Team, code, code_list, optional_code

EARLIEST = date(2016, 1, 1)  # the amendment's outreach starts in 2016; an earlier date is a typo
MAX_PEOPLE = 500  # more in one visit is a typo, not a brothel
MAX_GROUPS = 30
PLAN_HORIZON_DAYS = 366

STATES = ("planned", "overdue", "done", "cancelled")
OPEN_STATES = ("planned", "overdue")  # still to be made; a record fulfils one of these
CAUSES = ("planned", "revisit", "unplanned")  # unplanned: recorded with no visit planned (never in visit.planned)


def new_visit_id() -> str:
    return "vis-" + secrets.token_hex(8)


@dataclass(frozen=True)
class VisitRecord:
    visited_on: date
    people_met: Mapping[str, int]  # language group -> count
    materials: tuple[str, ...]
    health_services: tuple[str, ...]
    identification_talk: str
    indicators: tuple[str, ...]
    screening_outcome: str | None
    follow_up_needed: bool

    @property
    def people_met_total(self) -> int:
        return sum(self.people_met.values())


@dataclass(frozen=True)
class Visit:
    visit_id: str
    venue_id: str
    team_id: str
    organisation: str  # the team's organisation: who made (or is to make) the visit
    region: str
    state: str
    due_on: date | None  # None for an unplanned visit
    cause: str
    record: VisitRecord | None = None

    @property
    def visited_on(self) -> date | None:
        return self.record.visited_on if self.record else None


def check_people_met(entries: object) -> dict[str, int]:
    """[{language_group, count}] (as the RPC sends it) or {language_group: count} → {language_group: count}."""
    if isinstance(entries, Mapping):
        entries = [{"language_group": k, "count": v} for k, v in entries.items()]
    if not isinstance(entries, (list, tuple)) or len(entries) > MAX_GROUPS:
        raise InvalidVisit(f"people_met must be a list of at most {MAX_GROUPS} {{language_group, count}}",
                           "people_met")
    counts: dict[str, int] = {}
    for entry in entries:
        if not isinstance(entry, Mapping) or set(entry) != {"language_group", "count"}:
            raise InvalidVisit("each people_met entry has exactly language_group and count", "people_met")
        group = code("languageGroups", entry["language_group"], "people_met")
        count = entry["count"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidVisit("people_met counts are whole numbers, 0 or more", "people_met")
        if group in counts:
            raise InvalidVisit(f"people_met names language group {group} twice", "people_met")
        counts[group] = count
    if sum(counts.values()) > MAX_PEOPLE:
        raise InvalidVisit(f"people_met counts more than {MAX_PEOPLE} people in one visit", "people_met")
    return {g: n for g, n in counts.items() if n}  # a zero says nothing; keeping it would only vary the record


def check_day(value: object, today: date, field: str) -> date:
    """A day something happened: not in the future, not before the programme began."""
    if not isinstance(value, date) or hasattr(value, "hour"):
        raise InvalidDate(f"{field} must be a date", field)
    if value > today:
        raise InvalidDate(f"{field} lies in the future", field)
    if value < EARLIEST:
        raise InvalidDate(f"{field} lies before {EARLIEST.isoformat()}", field)
    return value


def check_due(due_on: object, today: date, field: str = "due_on") -> date:
    if not isinstance(due_on, date) or hasattr(due_on, "hour"):
        raise InvalidDate(f"{field} must be a date", field)
    if due_on < today:
        raise InvalidDate(f"{field} lies in the past", field)
    if due_on > today + timedelta(days=PLAN_HORIZON_DAYS):
        raise InvalidDate(f"{field} lies more than {PLAN_HORIZON_DAYS} days ahead", field)
    return due_on


def check_visit(*, visited_on: object, people_met: object, materials: object, health_services: object,
                identification_talk: object, indicators: object, follow_up_needed: object, today: date,
                screening_outcome: object = None) -> VisitRecord:
    """A visit record, or the first rule it breaks (with the argument's name as ``field``)."""
    if not isinstance(follow_up_needed, bool):
        raise InvalidVisit("follow_up_needed must be true or false", "follow_up_needed")
    record = VisitRecord(
        visited_on=check_day(visited_on, today, "visited_on"), people_met=check_people_met(people_met),
        materials=code_list("materials", materials, "materials"),
        health_services=code_list("healthServices", health_services, "health_services"),
        identification_talk=code("identificationTalk", identification_talk, "identification_talk"),
        indicators=code_list("indicators", indicators, "indicators"),
        screening_outcome=optional_code("screeningOutcomes", screening_outcome, "screening_outcome"),
        follow_up_needed=follow_up_needed)
    if record.people_met_total == 0:
        # what needs a person present cannot have happened with no one met
        for name, said in (("health_services", record.health_services),
                           ("identification_talk", record.identification_talk != "none"),
                           ("screening_outcome", record.screening_outcome)):
            if said:
                raise InvalidVisit(f"{name} needs at least one person in people_met", name)
        if not (record.materials or record.indicators or record.follow_up_needed):
            raise InvalidVisit("a visit record says whom it met, what it left or what it saw", "people_met")
    return record


def plan(visit_id: str, *, venue_id: str, venue_region: str, team: Team, due_on: object, today: date,
         cause: str = "planned") -> Visit:
    """A visit planned for ``team`` at a venue; a regional team is refused outside its region."""
    team.check_works_in(venue_region, "venue_id")
    if cause not in ("planned", "revisit"):
        raise InvalidVisit("cause must be planned or revisit", "cause")
    return Visit(visit_id, venue_id, team.id, team.organisation, venue_region, "planned",
                 check_due(due_on, today), cause)


def fulfil(visit: Visit | None, record: VisitRecord, *, visit_id: str, venue_id: str, venue_region: str,
           team: Team) -> Visit:
    """The visit ``record`` makes: the open one it fulfils, or a new unplanned visit when none was planned."""
    team.check_works_in(venue_region, "venue_id")
    if visit is None:
        return Visit(visit_id, venue_id, team.id, team.organisation, venue_region, "done", None, "unplanned", record)
    if visit.state not in OPEN_STATES:
        raise InvalidVisit(f"visit {visit.visit_id} is {visit.state}; it cannot be recorded again", "visit_id")
    if visit.venue_id != venue_id or visit.team_id != team.id:
        raise InvalidVisit(f"visit {visit.visit_id} is planned for venue {visit.venue_id} and team "
                           f"{visit.team_id}", "visit_id")
    return replace(visit, state="done", record=record)


def next_due(visited_on: date, level: str, rules: ConcernRules) -> date | None:
    days = revisit_days(level, rules)
    return None if days is None else visited_on + timedelta(days=days)


def revisit_due(visited_on: date, level: str, rules: ConcernRules, today: date) -> date | None:
    """When to plan the revisit after a visit: the interval from the visit, but never in the past (a visit
    recorded late must not open a revisit that is overdue the moment it exists)."""
    due = next_due(visited_on, level, rules)
    return None if due is None else max(due, today)


def is_overdue(due_on: date | None, today: date) -> bool:
    """Due yesterday or earlier and not made; a visit due today can still be made today."""
    return due_on is not None and due_on < today


def mark_overdue(visit: Visit, today: date) -> Visit | None:
    """The visit turned overdue, or None when nothing changes (so the sweep publishes each overdue visit once)."""
    if visit.state != "planned" or not is_overdue(visit.due_on, today):
        return None
    return replace(visit, state="overdue")
