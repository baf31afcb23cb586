"""Organisations, identified by Danish CVR number in the org-id.guide form ``DK-CVR-<8 digits>``.

The same identifier is what 360Giving publishes, so the id is stored once and never reformatted downstream.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Iterable

from .errors import InvalidCvr, InvalidInput, OrganisationExists, RoleInUse, StaleVersion, UnknownOrganisation

ID_PREFIX = "DK-CVR-"
_WEIGHTS = (2, 7, 6, 5, 4, 3, 2, 1)
_ID = re.compile(r"DK-CVR-([0-9]{8})")


class Role(str, Enum):
    APPLICANT = "applicant"
    KNOWLEDGE_INSTITUTION = "knowledge_institution"
    FUNDER = "funder"


def cvr_is_valid(digits: str) -> bool:
    """Modulus-11 check of an 8-digit CVR number (weights 2,7,6,5,4,3,2,1; a CVR never starts with 0)."""
    if not (isinstance(digits, str) and len(digits) == 8 and digits.isascii() and digits.isdigit()):
        return False
    if digits[0] == "0":
        return False
    return sum(int(d) * w for d, w in zip(digits, _WEIGHTS)) % 11 == 0


def parse_org_id(value: object) -> str:
    """Validate an organisation id (``DK-CVR-20453044``) and return it unchanged."""
    match = _ID.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidCvr(f"organisation id must look like 'DK-CVR-' followed by 8 digits, got {value!r}",
                         value=value if isinstance(value, str) else repr(value))
    if not cvr_is_valid(match[1]):
        raise InvalidCvr(f"organisation id {value!r}: {match[1]} fails the CVR modulus-11 check", value=value)
    return value


def org_id_from_cvr(cvr: str) -> str:
    """Turn a CVR as people write it ('20 45 30 44', '20-45-30-44') into the canonical organisation id."""
    if not isinstance(cvr, str):
        raise InvalidCvr(f"CVR must be a string, got {cvr!r}", value=repr(cvr))
    return parse_org_id(ID_PREFIX + re.sub(r"[\s-]", "", cvr))


@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    roles: frozenset[Role] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        parse_org_id(self.id)
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidInput(f"organisation {self.id}: name must be a non-empty string", field="name")
        try:
            object.__setattr__(self, "roles", frozenset(Role(r) for r in self.roles))
        except ValueError as bad:
            raise InvalidInput(f"organisation {self.id}: roles must be among {[r.value for r in Role]}: {bad}",
                               field="roles") from None

    @property
    def cvr(self) -> str:
        return self.id[len(ID_PREFIX):]

    def has_role(self, role: Role) -> bool:
        return role in self.roles


class Directory:
    """The organisations the service knows, by id. A lookup of an unknown id is a domain error, not a KeyError."""

    def __init__(self, organisations: Iterable[Organisation] = ()) -> None:
        self._by_id: dict[str, Organisation] = {o.id: o for o in organisations}

    def add(self, organisation: Organisation) -> None:
        self._by_id[organisation.id] = organisation

    def get(self, org_id: str, *, field: str = "organisation") -> Organisation:
        try:
            return self._by_id[org_id]
        except (KeyError, TypeError):
            raise UnknownOrganisation(f"{field}: no organisation with id {org_id!r}", field=field,
                                      value=org_id) from None

    def __contains__(self, org_id: object) -> bool:
        return org_id in self._by_id


# the application states in which an organisation's role still matters: until the grant is closed, withdrawn or
# rejected, a partner that loses its role (or an applicant that stops being one) breaks the application's basis
LIVE_STATES = frozenset({"draft", "submitted", "in_assessment", "awarded", "active"})
ROLE_IN_APPLICATION = {"applicant": Role.APPLICANT, "knowledge_partner": Role.KNOWLEDGE_INSTITUTION}


def check_new(org_id: str, existing: "Organisation | None") -> None:
    """Registering is for a CVR the service does not know yet; changing one is its own, versioned command."""
    if existing is not None:
        raise OrganisationExists(f"organisation {org_id} is already registered (as {existing.name!r}); use "
                                 f"changeOrganisation with its version to change its name or roles",
                                 field="org_id", value=org_id)


@dataclass(frozen=True)
class Change:
    """One change of an organisation: who, when, and each field's value before and after."""
    version: int  # the version the change produced
    actor: str
    at: str  # ISO time
    changes: dict


def change(current: Organisation, version: int, *, expected_version: int, name: str | None,
           roles: frozenset[Role] | None, live_applications: Iterable[tuple[str, str, str]], actor: str,
           at: str) -> tuple[Organisation, Change]:
    """Apply a change to ``current`` (stored at ``version``). ``live_applications`` are (application id, state,
    how the organisation takes part: 'applicant' or 'knowledge_partner') of applications still in progress: a role
    one of them depends on cannot be removed."""
    if expected_version != version:
        raise StaleVersion(f"organisation {current.id} is at version {version}, not {expected_version}; read it "
                           f"again and apply the change to the current version", field="version",
                           current_version=version)
    new = Organisation(current.id, current.name if name is None else name,
                       current.roles if roles is None else roles)
    removed = current.roles - new.roles
    blocking = sorted((app_id, state, part) for app_id, state, part in live_applications
                      if state in LIVE_STATES and ROLE_IN_APPLICATION.get(part) in removed)
    if blocking:
        needs = ", ".join(f"{app_id} ({state}, as {part.replace('_', ' ')})" for app_id, state, part in blocking)
        lost = ", ".join(sorted(r.value for r in removed if r in {ROLE_IN_APPLICATION[p] for _, _, p in blocking}))
        raise RoleInUse(f"organisation {current.id} cannot lose the role {lost}: applications in progress depend on "
                        f"it: {needs}", field="roles", applications=[b[0] for b in blocking])
    changes = {}
    if new.name != current.name:
        changes["name"] = {"from": current.name, "to": new.name}
    if new.roles != current.roles:
        changes["roles"] = {"from": sorted(r.value for r in current.roles), "to": sorted(r.value for r in new.roles)}
    if not changes:
        raise InvalidInput(f"organisation {current.id}: the change changes nothing", field="name")
    return new, Change(version + 1, actor, at, changes)
