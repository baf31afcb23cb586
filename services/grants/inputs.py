"""Grants' edge checks: RPC arguments (JSON values) become domain values, or an error naming the field.

The generic checks come from kit.inputs and are re-exported so a command reads every argument through this module;
what only grants knows (amounts in øre, organisation ids, roles, pools, record ids) is checked here.
"""
from __future__ import annotations

from kit.inputs import InvalidInput, actor, day, optional_day, optional_text, text
from services.grants.domain.money import parse_ore
from services.grants.domain.organisations import Role, parse_org_id
from services.grants.domain.pools import Pool, resolve
from services.grants.domain.reference import ActionPlan

__all__ = ["InvalidInput", "actor", "amount", "application_id", "day", "filter_value", "obligation_id", "optional_day",
           "optional_org_id", "optional_text", "org_id", "pool", "roles", "text", "version"]

ID_LIMIT = 64  # application ids are "app-" and 32 hex digits; the limit refuses anything that is no id


def amount(value: object, field: str) -> int:
    return parse_ore(value, field=field)


def version(value: object, field: str = "version") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{field} must be a positive integer (the version last read)", field)
    return value


def org_id(value: object, field: str) -> str:
    try:
        return parse_org_id(value)
    except Exception as exc:
        exc.field = field  # the domain names no field: it does not know which argument held the id
        raise


def optional_org_id(value: object, field: str) -> str | None:
    return None if value in (None, "") else org_id(value, field)


def roles(value: object) -> frozenset[Role]:
    if not isinstance(value, (list, tuple)) or not value:
        raise InvalidInput("roles must be a non-empty list", "roles")
    try:
        return frozenset(Role(r) for r in value)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInput(f"roles must be drawn from {allowed}, got {list(value)!r}", "roles") from None


def pool(plan: ActionPlan, value: object) -> Pool:
    """A grant pool or funding of the action plan by its code (the domain refuses codes that name no grant pool)."""
    return resolve(plan, text(value, "pool_code"))


def application_id(value: object, field: str = "application_id") -> str:
    return text(value, field, limit=ID_LIMIT)


def obligation_id(value: object) -> str:
    return text(value, "obligation_id", limit=120)  # grant id, kind and milestone code joined


def filter_value(value: object, field: str) -> str | None:
    """An equality filter of a list query: text or absent. Anything else could reach MongoDB as an operator; any
    text (even empty, which matches nothing) is accepted as before."""
    if value is None or isinstance(value, str):
        return value
    raise InvalidInput(f"{field} must be text", field)
