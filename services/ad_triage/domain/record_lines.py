"""Line-by-line parsing of JSON Lines and CSV ad files.

Each line yields (line_no, Ad) or (line_no, RecordRejected); a bad line never stops the batch, because one broken
row in a scrape of thousands must not hide the rest.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from .records import Ad, RecordRejected, parse_record

ParsedLine = tuple[int, Ad | RecordRejected]

CSV_COLUMNS = (
    "platform", "adId", "url", "firstSeen", "lastSeen", "title", "text", "language", "location", "contacts",
    "priceAmount", "priceCurrency", "imageHashes",
)


def _parse(line_no: int, raw: Any) -> ParsedLine:
    try:
        return line_no, parse_record(raw)
    except RecordRejected as rejected:
        return line_no, rejected


def parse_jsonl(lines: Iterable[str]) -> Iterator[ParsedLine]:
    """Parse JSON Lines; blank lines are skipped, line numbers are 1-based as in an editor."""
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as err:
            yield line_no, RecordRejected([f"line: malformed JSON ({err.msg} at column {err.colno})"])
            continue
        yield _parse(line_no, raw)


def _contacts_cell(cell: str, reasons: list[str]) -> list[dict]:
    """'phone:+45 12 34 56 78;telegram:@x' -> contact dicts; the value may itself contain ':'."""
    contacts = []
    for i, part in enumerate(p for p in cell.split(";") if p.strip()):
        kind, sep, value = part.partition(":")
        if not sep:
            reasons.append(f"contacts[{i}]: expected kind:value")
            continue
        contacts.append({"kind": kind.strip().lower(), "value": value.strip()})
    return contacts


def _csv_row_to_raw(row: dict[str, str], reasons: list[str]) -> dict:
    raw: dict[str, Any] = {
        name: row[name] for name in CSV_COLUMNS
        if name not in ("contacts", "priceAmount", "priceCurrency", "imageHashes") and row.get(name)
    }
    raw["contacts"] = _contacts_cell(row.get("contacts") or "", reasons)
    hashes = row.get("imageHashes") or ""
    raw["imageHashes"] = [h.strip() for h in hashes.split(";") if h.strip()]
    amount, currency = (row.get("priceAmount") or "").strip(), (row.get("priceCurrency") or "").strip()
    if amount or currency:
        try:
            raw["price"] = {"amount": int(amount), "currency": currency}
        except ValueError:
            reasons.append("priceAmount: not an integer")
    return raw


def parse_csv(lines: Iterable[str]) -> Iterator[ParsedLine]:
    """Parse CSV with a header row naming CSV_COLUMNS; line numbers count the header as line 1."""
    reader = csv.DictReader(lines, restkey="__extra__")
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        yield 1, RecordRejected([f"header: missing column(s) {', '.join(missing)}"])
        return
    for row in reader:
        line_no = reader.line_num  # physical line of the row's end, so multi-line cells still point right
        reasons: list[str] = []
        if row.get("__extra__"):
            reasons.append("line: more cells than header columns")
        if None in row.values():
            reasons.append("line: fewer cells than header columns")
        raw = _csv_row_to_raw({k: v for k, v in row.items() if isinstance(v, str)}, reasons)
        try:
            ad = parse_record(raw)
        except RecordRejected as rejected:
            yield line_no, RecordRejected(reasons + rejected.reasons)
            continue
        yield line_no, (RecordRejected(reasons) if reasons else ad)
