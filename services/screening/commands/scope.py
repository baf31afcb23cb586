"""Who is acting and what they may reach. A record outside the caller's reach is answered as unknown, exactly like a
missing id (no oracle): a screener sees its own organisation's screenings, a partner only referrals sent to it."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date

from kit.storage import now as utcnow


@dataclass(frozen=True)
class Scope:
    organisation: str | None  # the only organisation whose records the caller reaches (None: all)
    acting_for: str | None  # the caller's own organisation (what events name as the actor's organisation)
    role: str | None
    subject: str | None  # the caller's pseudonymous id

    def reaches(self, organisation: str | None) -> bool:
        return self.organisation is None or organisation == self.organisation


SYSTEM = Scope(None, "platform", None, "screening-service")


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


@dataclass
class Context:
    """What every screening command needs: the store, the caller's scope, the partner policy, the deadlines, a
    clock."""
    store: object
    scope: Scope
    policy: object
    deadlines: tuple = field(default=("0", ()))
    now: object = utcnow

    def today(self) -> date:
        return self.now().date()
