"""The grants service's commands, one module per aggregate or use case.

Each command checks its arguments (inputs), loads what it needs, lets the domain decide, and saves the state change
with its outbox rows in one ``store.run_once`` transaction bound to the checked arguments. Nothing here knows
nameko: the RPC class in service.py only forwards arguments.
"""
from __future__ import annotations

from services.grants.domain.events import Clock, utc_now
from services.grants.domain.reference import ActionPlan
from services.grants.storage import GrantsStore


class Commands:
    """What every command object holds: the store, the action plan and the clock (a test moves it by hand)."""

    def __init__(self, store: GrantsStore, plan: ActionPlan, clock: Clock = utc_now) -> None:
        self.store, self.plan, self.clock = store, plan, clock
