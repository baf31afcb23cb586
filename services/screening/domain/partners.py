"""The partner policy (policy/partners.toml): which agency may receive which fields of a referral, for which purpose.

The policy is data so the DPO can read and change it without reading code; this module only refuses a file that
could share more or less than it says. Every field path must be one of ``PAYLOAD_FIELDS`` (a typo would otherwise
silently drop a field, or a new field would appear unreviewed), a topic must be ``partner.<id>.referrals`` (one topic
per agency, ARCHITECTURE.md "Partner streams"), and an override or consent purpose must be one some agency has.
A bad file raises ``InvalidPartnerPolicy`` naming the offending key, so the service refuses to start.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from .errors import InvalidPartnerPolicy, UnknownAgency

REPO = Path(__file__).resolve().parents[3]
DEFAULT_PATH = REPO / "policy" / "partners.toml"

PAYLOAD_FIELDS: frozenset[str] = frozenset({
    "referralId", "subjectRef", "agency", "purpose", "state", "requestedAt", "acknowledgeBy",
    "referringOrganisation", "basis",
    "screening.instrument", "screening.instrumentVersion", "screening.outcome", "screening.screenedOn",
    "screening.indicators", "screening.methodsOfControl", "screening.rule",
    "workplace.sector", "workplace.isic", "workplace.municipality", "workplace.region", "workplace.jointInspection",
    "person.languageGroup", "person.ageBand", "person.gender",
})
# Without these a partner could not tell what a payload is about, nor act on a later revocation.
REQUIRED_ALWAYS = frozenset({"referralId", "subjectRef", "agency", "purpose"})
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_TOP_KEYS = {"version", "always", "agencies", "overrides", "consent"}
_AGENCY_KEYS = {"name", "topic", "legal_basis", "acknowledge_within_hours", "purposes"}


@dataclass(frozen=True)
class Agency:
    id: str
    name: str
    topic: str
    legal_basis: str
    purposes: Mapping[str, frozenset[str]]  # purpose -> allowed dotted fields (beyond the policy's `always`)
    acknowledge_within_hours: int = 48


@dataclass(frozen=True)
class PartnerPolicy:
    agencies: Mapping[str, Agency]
    always: frozenset[str]
    override_roles: frozenset[str]
    override_purposes: frozenset[str]
    min_reason_length: int
    legal_bases: frozenset[str]
    purposes: frozenset[str]  # every purpose any agency has
    consent_purposes: frozenset[str] | None = None  # None: a person may consent to every purpose

    def agency(self, id: str) -> Agency:
        found = self.agencies.get(id) if isinstance(id, str) else None
        if found is None:
            raise UnknownAgency(f"unknown agency {str(id)[:40]!r}", "recipient")
        return found


def _bad(where: str, problem: str) -> InvalidPartnerPolicy:
    return InvalidPartnerPolicy(f"partner policy: {where}: {problem}")


def _strings(value: object, where: str, *, empty_ok: bool = False) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _bad(where, "must be a list of non-empty strings")
    if not value and not empty_ok:
        raise _bad(where, "must not be empty")
    if len(set(value)) != len(value):
        raise _bad(where, "lists an entry twice")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(where, "must be a non-empty string")
    return value


def _positive_int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _bad(where, "must be a whole number, 1 or more")
    return value


def _fields(value: object, where: str) -> frozenset[str]:
    fields = _strings(value, where, empty_ok=True)
    unknown = sorted(set(fields) - PAYLOAD_FIELDS)
    if unknown:
        raise _bad(where, f"unknown field path {unknown[0]!r} (not in the partner payload)")
    return frozenset(fields)


def _agency(agency_id: str, table: object) -> Agency:
    where = f"agencies.{agency_id}"
    if not _ID.match(agency_id):
        raise _bad(where, "an agency id is lower-case letters, digits and _")
    if not isinstance(table, dict):
        raise _bad(where, "must be a table")
    unknown = sorted(set(table) - _AGENCY_KEYS)
    if unknown:
        raise _bad(where, f"unknown key {unknown[0]!r}")
    topic = _text(table.get("topic"), f"{where}.topic")
    if topic != f"partner.{agency_id}.referrals":
        raise _bad(f"{where}.topic", f"must be 'partner.{agency_id}.referrals'")
    purposes_table = table.get("purposes", {})
    if not isinstance(purposes_table, dict):
        raise _bad(f"{where}.purposes", "must be a table")
    purposes: dict[str, frozenset[str]] = {}
    for purpose, spec in purposes_table.items():
        at = f"{where}.purposes.{purpose}"
        if not _ID.match(purpose):
            raise _bad(at, "a purpose is lower-case letters, digits and _")
        if not isinstance(spec, dict) or set(spec) != {"fields"}:
            raise _bad(at, "must be a table with exactly one key, fields")
        purposes[purpose] = _fields(spec["fields"], f"{at}.fields")
    return Agency(id=agency_id, name=_text(table.get("name"), f"{where}.name"), topic=topic,
                  legal_basis=_text(table.get("legal_basis"), f"{where}.legal_basis"),
                  purposes=MappingProxyType(purposes),
                  acknowledge_within_hours=_positive_int(table.get("acknowledge_within_hours", 48),
                                                         f"{where}.acknowledge_within_hours"))


def _known_purposes(value: object, where: str, purposes: frozenset[str]) -> frozenset[str]:
    listed = _strings(value, where)
    nobody = sorted(set(listed) - purposes)
    if nobody:
        raise _bad(where, f"purpose {nobody[0]!r} is not a purpose of any agency")
    return frozenset(listed)


def parse_policy(document: dict) -> PartnerPolicy:
    """The policy from a parsed TOML document; ``InvalidPartnerPolicy`` naming the first problem found."""
    if not isinstance(document, dict):
        raise _bad("document", "must be a table")
    unknown = sorted(set(document) - _TOP_KEYS)
    if unknown:
        raise _bad(unknown[0], "unknown key")
    agencies_table = document.get("agencies")
    if not isinstance(agencies_table, dict) or not agencies_table:
        raise _bad("agencies", "must be a non-empty table")
    agencies = {agency_id: _agency(agency_id, table) for agency_id, table in agencies_table.items()}
    purposes = frozenset(p for a in agencies.values() for p in a.purposes)

    always = _fields(document.get("always"), "always")
    missing = sorted(REQUIRED_ALWAYS - always)
    if missing:
        raise _bad("always", f"must include {missing[0]!r}")

    overrides = document.get("overrides")
    if not isinstance(overrides, dict) or set(overrides) != {"roles", "min_reason_length", "purposes"}:
        raise _bad("overrides", "must be a table with roles, min_reason_length and purposes")
    consent = document.get("consent")
    if not isinstance(consent, dict) or not {"legal_bases"} <= set(consent) <= {"legal_bases", "purposes"}:
        raise _bad("consent", "must be a table with legal_bases (and optionally purposes)")
    legal_bases = _strings(consent["legal_bases"], "consent.legal_bases")
    bad_code = next((c for c in legal_bases if not _ID.match(c)), None)
    if bad_code is not None:
        raise _bad("consent.legal_bases", f"{bad_code[:40]!r} is not a code (lower-case letters, digits and _)")
    consent_purposes = (_known_purposes(consent["purposes"], "consent.purposes", purposes)
                        if "purposes" in consent else None)

    return PartnerPolicy(
        agencies=MappingProxyType(agencies), always=always,
        override_roles=frozenset(_strings(overrides["roles"], "overrides.roles")),
        override_purposes=_known_purposes(overrides["purposes"], "overrides.purposes", purposes),
        min_reason_length=_positive_int(overrides["min_reason_length"], "overrides.min_reason_length"),
        legal_bases=frozenset(legal_bases), purposes=purposes, consent_purposes=consent_purposes)


@lru_cache(maxsize=None)
def _load(path: Path) -> PartnerPolicy:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidPartnerPolicy(f"partner policy: cannot read {path.name}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidPartnerPolicy(f"partner policy: {path.name} is not valid TOML: {exc}") from None
    return parse_policy(document)


def load_policy(path: Path | None = None) -> PartnerPolicy:
    """The policy file (default policy/partners.toml), read and checked once per path per process."""
    return _load(Path(path).resolve() if path is not None else DEFAULT_PATH)
