"""Cut a partner payload to what the agency's legal basis allows for the purpose (policy/partners.toml).

An allow-list, never a deny-list: a field added to the payload later is cut until the policy names it. Paths are
dotted into nested dicts; a leaf (``screening.indicators``) is kept or cut whole. A section left with nothing in it
is dropped, so a partner never learns that, say, person details exist but were withheld. The input is not changed
and the output shares no mutable value with it.
"""
from __future__ import annotations

from copy import deepcopy
from typing import Mapping

from .errors import PurposeNotAllowedForAgency
from .partners import PartnerPolicy


def allowed_paths(agency: str, purpose: str, policy: PartnerPolicy) -> frozenset[str]:
    """``always`` plus the purpose's fields; an agency without the purpose (immigration: any) gets nothing."""
    fields = policy.agency(agency).purposes.get(purpose)
    if fields is None:
        raise PurposeNotAllowedForAgency(f"agency {agency!r} has no purpose {str(purpose)[:40]!r}", "purpose")
    return policy.always | fields


def _keep(node: Mapping, prefix: str, allowed: frozenset[str], sections: frozenset[str]) -> dict:
    kept = {}
    for key, value in node.items():
        path = f"{prefix}{key}"
        if path in allowed:
            kept[key] = deepcopy(value)
        elif path in sections and isinstance(value, Mapping):
            inner = _keep(value, path + ".", allowed, sections)
            if inner:
                kept[key] = inner
    return kept


def redact(payload: Mapping, agency: str, purpose: str, policy: PartnerPolicy) -> dict:
    allowed = allowed_paths(agency, purpose, policy)
    sections = frozenset(".".join(p.split(".")[:i]) for p in allowed for i in range(1, p.count(".") + 1))
    return _keep(payload, "", allowed, sections)
