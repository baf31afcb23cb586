"""Rules an application must meet before it can be submitted, checked against the amendment's reference data."""
from __future__ import annotations

from datetime import date, datetime

from .errors import (InvalidAmount, InvalidPeriod, KnowledgeInstitutionRequired, OutsidePeriod,
                     RecipientNotEarmarked)
from .money import check_ore
from .organisations import Directory, Role
from .pools import Pool
from .reference import Period


def check_eligibility(pool: Pool, directory: Directory, *, applicant_id: str, partner_id: str | None,
                      requested_ore: int, start: date, end: date) -> None:
    """Raise the first broken rule; return None when the application may go forward."""
    directory.get(applicant_id, field="applicant")
    check_recipient(pool, directory, applicant_id)
    check_partner(pool, directory, partner_id)
    check_requested_amount(pool, requested_ore)
    check_period(pool.period, start, end, what="requested period", pool_code=pool.code)


def check_recipient(pool: Pool, directory: Directory, applicant_id: str) -> None:
    # a named funding (Pro Vest) is earmarked for one organisation; the reference data holds only its name
    if pool.recipient_name is None:
        return
    applicant = directory.get(applicant_id, field="applicant")
    if applicant.name.casefold() != pool.recipient_name.casefold():
        raise RecipientNotEarmarked(f"{pool.code} is earmarked for {pool.recipient_name!r}; applicant "
                                    f"{applicant_id} is {applicant.name!r}", pool=pool.code)


def check_partner(pool: Pool, directory: Directory, partner_id: str | None) -> None:
    # the amendment: pools 1 and 2 work "in cooperation with knowledge institutions to ensure that outcomes
    # and lessons are documented" - the partner is who the outcome-documentation obligation falls on
    if not pool.requires_knowledge_institution:
        return
    if partner_id is None:
        raise KnowledgeInstitutionRequired(f"{pool.code} requires a knowledge-institution partner that documents "
                                           f"outcomes; knowledge_partner_id is missing", pool=pool.code)
    partner = directory.get(partner_id, field="knowledge_partner_id")
    if not partner.has_role(Role.KNOWLEDGE_INSTITUTION):
        raise KnowledgeInstitutionRequired(f"knowledge_partner_id {partner_id} ({partner.name}) does not hold the "
                                           f"knowledge_institution role", pool=pool.code, value=partner_id)


def check_requested_amount(pool: Pool, requested_ore: int) -> None:
    check_ore(requested_ore, field="requested_ore")
    # an unknown budget (Pro Vest before the officer enters it) cannot cap a request; the award checks it later
    if pool.budget_ore is not None and requested_ore > pool.budget_ore:
        raise InvalidAmount(f"requested_ore {requested_ore} is above the budget of {pool.code} "
                            f"({pool.budget_ore} øre)", field="requested_ore", pool=pool.code)


def check_period(period: Period, start: date, end: date, *, what: str, pool_code: str) -> None:
    if not _is_day(start) or not _is_day(end):
        raise InvalidPeriod(f"{what}: start and end must be dates, got {start!r} and {end!r}")
    if end < start:
        raise InvalidPeriod(f"{what}: end {end.isoformat()} is before start {start.isoformat()}")
    if not period.contains(start, end):
        raise OutsidePeriod(f"{what} {start.isoformat()}..{end.isoformat()} is outside the period of {pool_code} "
                            f"({_iso(period.start)}..{_iso(period.end)})", pool=pool_code)


def check_date_in_period(period: Period, day: date, *, what: str, pool_code: str) -> None:
    if not _is_day(day):
        raise InvalidPeriod(f"{what} must be a date, got {day!r}")
    if not period.contains(day, day):
        raise OutsidePeriod(f"{what} {day.isoformat()} is outside the period of {pool_code} "
                            f"({_iso(period.start)}..{_iso(period.end)})", pool=pool_code)


def _is_day(value: object) -> bool:
    # datetime is a date subclass; comparing one with a date raises TypeError deep inside Period.contains
    return isinstance(value, date) and not isinstance(value, datetime)


def _iso(day: date | None) -> str:
    return day.isoformat() if day else "open"
