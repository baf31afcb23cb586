"""Grantees' reporting obligations: overdue detection (run on a timer) and recording that one was met."""
from __future__ import annotations

from services.grants import inputs
from services.grants.commands import Commands
from services.grants.domain import obligations as ob
from services.grants.views import plain


class ObligationCommands(Commands):
    def report_overdue(self, today=None) -> int:
        """Emit ``grants.obligation.overdue`` once per obligation that passed its due date unfulfilled."""
        day = inputs.optional_day(today, "today") or self.clock().date()

        def work(session) -> int:
            pending = self.store.unreported_obligations(session)
            events = ob.report_overdue(pending, day, self.clock)
            self.store.save_obligations(session, [o for o in pending if o.overdue_reported])
            for event in events:
                self.store.emit_event(session, event)
            return len(events)
        # no request id: the flag on each obligation is what makes a second run report nothing
        return self.store.transaction(work)

    def fulfil(self, *, obligation_id, fulfilled_on, actor, request_id=None) -> dict:
        on, oid = inputs.day(fulfilled_on, "fulfilled_on"), inputs.obligation_id(obligation_id)
        who = inputs.actor(actor)

        def work(session):
            found = self.store.obligation(oid, session)
            event = ob.fulfil(found, oid, on=on, actor=who, clock=self.clock)
            self.store.save_obligations(session, found)
            self.store.emit_event(session, event)
            return plain(found[0])
        return self.store.run_once("fulfil_obligation", request_id,
                                   {"obligation_id": oid, "fulfilled_on": on, "actor": who}, work)
