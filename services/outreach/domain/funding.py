"""Who paid for an activity: a grant (checked by the grants service: it must exist, be active and be of initiative
1 or 3) or a budget line of the acting organisation (CMM's own budget). Records keep the answer (``Funding``), so
the evaluation can attribute each visit and contact to a programme and a fund without asking grants again.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from .errors import FundingInactive, FundingNotForOutreach, FundingNotYours, FundingUnknown, OutreachError
from .reference import BudgetLine

KINDS = ("grant", "budget")
MAX_ID = 64


@dataclass(frozen=True)
class FundingRef:
    kind: str  # grant or budget
    id: str


@dataclass(frozen=True)
class Funding:
    kind: str
    id: str
    initiative: int
    fund_code: str  # the grant's pool or named funding (e.g. Pro Vest's), or the budget line's id

    def as_dict(self) -> dict:
        """The event form (camelCase), as in outreach.visit.recorded and outreach.contact.made."""
        return {"kind": self.kind, "id": self.id, "initiative": self.initiative, "fundCode": self.fund_code}


def parse_funding(value: object, field: str = "funding") -> FundingRef:
    # a malformed reference names no funding we know: one code for "this cannot pay", whatever the slip
    if not isinstance(value, Mapping) or set(value) != {"kind", "id"}:
        raise FundingUnknown(f"{field} must be {{kind: grant or budget, id: the grant id or budget line}}", field)
    kind, ident = value["kind"], value["id"]
    if kind not in KINDS:
        raise FundingUnknown(f"{field}.kind must be grant or budget", field)
    if not isinstance(ident, str) or not 1 <= len(ident) <= MAX_ID or not ident.isprintable():
        raise FundingUnknown(f"{field}.id must be the id of a grant or budget line", field)
    return FundingRef(kind, ident)


def check_budget_line(ref: FundingRef, organisation: str, lines: Mapping[str, BudgetLine]) -> Funding:
    line = lines.get(ref.id)
    if ref.kind != "budget" or line is None:
        raise FundingUnknown(f"no budget line {ref.id!r}", "funding")
    if line.organisation != organisation:
        # a line is the organisation's own money: another organisation cannot book work against it
        raise FundingNotYours(f"budget line {ref.id} is not of organisation {organisation}", "funding")
    return Funding("budget", line.id, line.initiative, line.id)


def check_grant_attribution(ref: FundingRef, attribution: object, allowed) -> Funding:
    """The grants service's answer for the active grant ``ref`` names (``initiative_number``, ``fund_code``),
    checked against the initiatives that may fund outreach."""
    return _grant_funding(ref.id, attribution, frozenset(allowed))


def _grant_funding(grant_id: object, attribution: object, allowed: frozenset[int]) -> Funding:
    if not isinstance(attribution, Mapping) or not isinstance(grant_id, str):
        raise FundingUnknown("the grants service gave no attribution for the grant", "funding")
    initiative = attribution.get("initiative_number")
    if isinstance(initiative, bool) or not isinstance(initiative, int) or initiative not in allowed:
        raise FundingNotForOutreach(f"grant {grant_id} is of initiative {initiative}; outreach is funded from "
                                    f"initiatives {', '.join(map(str, sorted(allowed)))}", "funding")
    fund_code = attribution.get("fund_code")
    if not isinstance(fund_code, str) or not fund_code:
        raise FundingUnknown(f"the grants service named no fund for grant {grant_id}", "funding")
    return Funding("grant", grant_id, initiative, fund_code)


# the grants service's refusal codes of attribute_activity, as outreach answers them
GRANTS_CODES = {"unknown_grant": FundingUnknown, "not_active": FundingInactive}


def from_grants_error(code: str, grant_id: str) -> OutreachError:
    """The outreach error for a grants refusal; an unexpected code is answered as unknown (never as valid)."""
    kind = GRANTS_CODES.get(code, FundingUnknown)
    what = "is not active" if kind is FundingInactive else "is not known"
    return kind(f"grant {grant_id} {what}; it cannot fund an activity", "funding")


def funding_from_dict(value: Mapping) -> Funding:
    """A stored or event funding dict (camelCase ``fundCode`` or snake ``fund_code``) back to ``Funding``."""
    return Funding(value["kind"], value["id"], int(value["initiative"]),
                   value.get("fundCode", value.get("fund_code")))


def allowed(initiatives: Iterable[int]) -> frozenset[int]:
    return frozenset(int(i) for i in initiatives)
