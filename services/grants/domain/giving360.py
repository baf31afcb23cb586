"""360Giving Data Standard 1.4 package of the published grants.

This is the one place øre become DKK numbers. ``amount_dkk`` shifts the decimal point on a ``Decimal``, exactly:
whole kroner are emitted as a JSON integer (the usual form in 360Giving data: ``3500000``), anything else as a
number with exactly two decimals (``1250.50``). ``dumps`` writes the package with that exact text; the standard
library's json would need a float for a non-whole amount, and a float is what the whole money path avoids.

The grant id is ``<prefix>-<grant id>``. 360Giving assigns publishers a ``360G-`` prefix on registration; until the
ministry has one, ``DEFAULT_PREFIX`` is a placeholder and must be replaced by configuration before publishing.
"""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any, Iterable

from .errors import FloatAmount, InvalidAmount
from .grant_records import Flow, GrantRecord
from .obligations import milestone_due
from .reference import ActionPlan

DEFAULT_PREFIX = "360G-dkthb"
SCHEMA_VERSION = "1.4"
CURRENCY = "DKK"


def amount_dkk(ore: int) -> int | Decimal:
    if isinstance(ore, bool) or not isinstance(ore, int):
        raise InvalidAmount(f"amount: expected integer øre, got {ore!r}", field="amount")
    if ore % 100 == 0:
        return ore // 100
    return Decimal(ore).scaleb(-2)  # exponent -2: always prints with two decimals


def package(records: Iterable[GrantRecord], plan: ActionPlan, *, issued: date, prefix: str = DEFAULT_PREFIX,
            license_url: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "title": f"Grants under the {plan.title}",
        "issued": issued.isoformat(),
        "publisher": {"identifier": plan.funder_id, "name": plan.funder_name},
        "grants": [grant(record, plan, prefix=prefix) for record in records],
    }
    if license_url:
        out["license"] = license_url
    return out


def grant(record: GrantRecord, plan: ActionPlan, *, prefix: str = DEFAULT_PREFIX) -> dict[str, Any]:
    funder, recipient = plan.funder_id, record.recipient.id
    out: dict[str, Any] = {
        "id": f"{prefix}-{record.grant_id}",
        "title": record.title,
        "description": record.description,
        "currency": CURRENCY,
        "amountAppliedFor": amount_dkk(record.requested_ore),
        "amountAwarded": amount_dkk(record.awarded_ore),
        "amountDisbursed": amount_dkk(record.disbursed_ore),
        "awardDate": record.award_date.isoformat(),
        "recipientOrganization": [{"id": recipient, "name": record.recipient.name}],
        "fundingOrganization": [{"id": funder, "name": plan.funder_name}],
        "grantProgramme": _programmes(record),
        "plannedDates": _planned(record),
        "commitmentTransaction": [_transaction(f, funder, recipient) for f in record.commitments],
        "disbursementTransaction": [_transaction(f, funder, recipient) for f in record.disbursements],
    }
    if record.actual_start:
        actual = {"startDate": record.actual_start.isoformat()}
        if record.actual_end:
            actual["endDate"] = record.actual_end.isoformat()
        out["actualDates"] = [actual]
    region = record.pool.region
    if region:
        location = {"name": region.name, "countryCode": region.country_code}
        if region.geo_code:
            location.update(geoCode=region.geo_code, geoCodeType=region.geo_code_type)
        out["beneficiaryLocation"] = [location]
    return out


def _programmes(record: GrantRecord) -> list[dict[str, str]]:
    pool = record.pool
    programmes = [{"code": pool.initiative_code, "title": pool.initiative_title}]
    if pool.is_funding:  # Pro Vest: the named funding inside initiative 3
        programmes.append({"code": pool.code, "title": pool.title})
    return programmes


def _planned(record: GrantRecord) -> list[dict[str, str]]:
    dates = [{"title": "Grant period", "startDate": record.start.isoformat(), "endDate": record.end.isoformat()}]
    for milestone in record.pool.milestones:
        due = milestone_due(milestone)
        if milestone.planned and due and record.start <= due <= record.end:
            # month precision as the amendment states it ("2017-06"), which the standard allows
            dates.append({"title": milestone.title, "startDate": milestone.planned, "endDate": milestone.planned})
    return dates


def _transaction(flow: Flow, provider: str, recipient: str) -> dict[str, Any]:
    return {"id": flow.id, "transactionDate": flow.on.isoformat(), "currency": CURRENCY,
            "value": amount_dkk(flow.ore), "provider": provider, "recipient": recipient}


def dumps(value: Any) -> str:
    """JSON text with Decimal written exactly as a number. A float anywhere is refused, not rounded."""
    if value is None or isinstance(value, (bool, str)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        raise FloatAmount(f"a float reached the 360Giving export: {value!r}", field="export")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{dumps(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
