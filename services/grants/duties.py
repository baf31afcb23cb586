"""Grantees' reporting obligations: overdue detection (run on a timer) and recording that one was met."""
from __future__ import annotations

from datetime import date

from services.grants import inputs
from services.grants.domain import obligations as ob
from services.grants.domain.events import Clock, utc_now
from services.grants.storage import GrantsStore
from services.grants.views import plain


class ObligationCommands:
    def __init__(self, store: GrantsStore, clock: Clock = utc_now) -> None:
        self.store, self.clock = store, clock

    def report_overdue(self, today=None) -> int:
        """Emit ``grants.obligation.overdue`` once per obligation that passed its due date unfulfilled."""
        day = inputs.day(today, "today") if today is not None else self.clock().date()

        def work(session) -> int:
            pending = self.store.obligations({"fulfilled_on": None, "overdue_reported": False}, session)
            events = ob.report_overdue(pending, day, self.clock)
            self.store.save_obligations(session, [o for o in pending if o.overdue_reported])
            for event in events:
                self.store.emit(session, event)
            return len(events)
        return self.store.transaction(work)

    def fulfil(self, *, obligation_id, fulfilled_on, actor, request_id=None) -> dict:
        on: date = inputs.day(fulfilled_on, "fulfilled_on")
        oid = inputs.text(obligation_id, "obligation_id", limit=120)

        def work(session):
            found = self.store.obligations({"_id": oid}, session)
            event = ob.fulfil(found, oid, on=on, actor=actor, clock=self.clock)
            self.store.save_obligations(session, found)
            self.store.emit(session, event)
            return plain(found[0])
        return self.store.run_once(inputs.request_key("fulfil_obligation", request_id), work)
