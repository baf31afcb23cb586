"""Flat CSV of the published grants, one row per grant, with 360Giving's spreadsheet column titles.

The rows are flattened from the 360Giving grant objects, so the CSV and the JSON can never disagree on a figure;
amounts are the same exact DKK numbers (see ``giving360.amount_dkk``). Lists that the flat form cannot hold in
one row (transactions, milestone dates) are summed or left to the JSON package.
"""
from __future__ import annotations

import csv
import io
from typing import Any, Callable, Iterable

from .giving360 import dumps

Column = tuple[str, Callable[[dict[str, Any]], Any]]


def _nth(key: str, index: int, field: str) -> Callable[[dict[str, Any]], Any]:
    return lambda g: g[key][index].get(field) if len(g.get(key) or ()) > index else None


def _first(key: str, field: str) -> Callable[[dict[str, Any]], Any]:
    return _nth(key, 0, field)


COLUMNS: tuple[Column, ...] = (
    ("Identifier", lambda g: g["id"]),
    ("Title", lambda g: g["title"]),
    ("Description", lambda g: g["description"]),
    ("Currency", lambda g: g["currency"]),
    ("Amount Applied For", lambda g: g.get("amountAppliedFor")),
    ("Amount Awarded", lambda g: g["amountAwarded"]),
    ("Amount Disbursed", lambda g: g.get("amountDisbursed")),
    ("Award Date", lambda g: g["awardDate"]),
    ("Planned Dates:Start Date", _first("plannedDates", "startDate")),
    ("Planned Dates:End Date", _first("plannedDates", "endDate")),
    ("Actual Dates:Start Date", _first("actualDates", "startDate")),
    ("Actual Dates:End Date", _first("actualDates", "endDate")),
    ("Recipient Org:Identifier", _first("recipientOrganization", "id")),
    ("Recipient Org:Name", _first("recipientOrganization", "name")),
    ("Funding Org:Identifier", _first("fundingOrganization", "id")),
    ("Funding Org:Name", _first("fundingOrganization", "name")),
    ("Grant Programme:Code", _first("grantProgramme", "code")),
    ("Grant Programme:Title", _first("grantProgramme", "title")),
    ("Grant Programme 2:Code", _nth("grantProgramme", 1, "code")),
    ("Grant Programme 2:Title", _nth("grantProgramme", 1, "title")),
    ("Beneficiary Location:Name", _first("beneficiaryLocation", "name")),
    ("Beneficiary Location:Country Code", _first("beneficiaryLocation", "countryCode")),
    ("Beneficiary Location:Geographic Code", _first("beneficiaryLocation", "geoCode")),
    ("Beneficiary Location:Geographic Code Type", _first("beneficiaryLocation", "geoCodeType")),
)


def to_csv(grants: Iterable[dict[str, Any]]) -> str:
    """CSV text for 360Giving grant objects (``giving360.package(...)["grants"]``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([title for title, _ in COLUMNS])
    for grant in grants:
        writer.writerow([_cell(get(grant)) for _, get in COLUMNS])
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return dumps(value)  # numbers written exactly as in the JSON; a float is refused there
