"""Teams, budget lines and coded lists (data/teams.json, budget_lines.json, codes.json).

Who may work where is a property of the team, not of the caller: CMM's teams work nationwide, Pro Vest's team only
in Region Zealand (the amendment funds Pro Vest there, 2016–2018). The coded lists are what a record may say; free
text is kept out of visits and contacts on purpose, so nothing personal slips into a field meant for a count.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .data import read
from .errors import OutsideRegion, UnknownCode, UnknownTeam

REACHES = ("nationwide", "region")


@dataclass(frozen=True)
class Team:
    id: str
    organisation: str
    name: str
    reach: str  # nationwide or region
    region: str | None  # the one region of a regional team; None for a nationwide one

    def may_work_in(self, region: str) -> bool:
        return self.reach == "nationwide" or (self.region is not None and region == self.region)

    def check_works_in(self, region: str, field: str = "venue_id") -> None:
        if not self.may_work_in(region):
            raise OutsideRegion(f"team {self.id} works in region {self.region} only; the venue is in {region}", field)


@dataclass(frozen=True)
class BudgetLine:
    id: str
    organisation: str
    initiative: int
    title: str


def _team(entry: dict) -> Team:
    reach, region = entry["reach"], entry.get("region")
    if reach not in REACHES or (reach == "region") != (region is not None):
        raise ValueError(f"team {entry['id']}: a regional team names its region, a nationwide one none")
    return Team(entry["id"], entry["organisation"], entry["name"], reach, region)


@lru_cache(maxsize=1)
def teams() -> dict[str, Team]:
    return {t["id"]: _team(t) for t in read("teams.json")["teams"]}


def team(team_id: object, field: str = "team_id") -> Team:
    found = teams().get(team_id) if isinstance(team_id, str) else None
    if found is None:
        raise UnknownTeam(f"{field} names no outreach team; teams are {', '.join(teams())}", field)
    return found


@lru_cache(maxsize=1)
def budget_lines() -> dict[str, BudgetLine]:
    return {b["id"]: BudgetLine(b["id"], b["organisation"], int(b["initiative"]), b["title"])
            for b in read("budget_lines.json")["budget_lines"]}


def grant_initiatives() -> frozenset[int]:
    """The initiatives of the amendment whose grants may fund outreach (1: online outreach, 3: brothels)."""
    return frozenset(int(i) for i in read("budget_lines.json")["grant_initiatives"])


def kinds() -> tuple[str, ...]:
    return tuple(k for k in read("codes.json") if k not in ("source", "licence"))


@lru_cache(maxsize=None)
def codes(kind: str) -> tuple[str, ...]:
    entries = read("codes.json")[kind]
    return tuple(e if isinstance(e, str) else e["code"] for e in entries)


def code(kind: str, value: object, field: str) -> str:
    # the message lists the allowed codes, never the value given: it may be free text
    if not isinstance(value, str) or value not in codes(kind):
        raise UnknownCode(f"{field} must be one of {', '.join(codes(kind))}", field)
    return value


def optional_code(kind: str, value: object, field: str) -> str | None:
    return None if value is None else code(kind, value, field)


def code_list(kind: str, values: object, field: str, *, limit: int = 50) -> tuple[str, ...]:
    if not isinstance(values, (list, tuple)) or len(values) > limit:
        raise UnknownCode(f"{field} must be a list of at most {limit} codes of {kind}", field)
    checked = tuple(code(kind, v, field) for v in values)
    if len(set(checked)) != len(checked):
        twice = sorted({c for c in checked if checked.count(c) > 1})
        # a code twice would count one material or indicator twice
        raise UnknownCode(f"{field} names {', '.join(twice)} more than once", field)
    return checked


def labelled(kind: str) -> list[dict]:
    """The codes of ``kind`` with their Danish and English labels (a bare code is its own label)."""
    return [dict(e) if isinstance(e, dict) else {"code": e, "da": e, "en": e} for e in read("codes.json")[kind]]
