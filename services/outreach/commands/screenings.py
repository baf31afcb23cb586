"""Screenings made at a venue (the screening service's ``screening.screening.recorded``) become the venue's
screening-outcome signal, so a screening that says "refer" raises concern and brings the revisit forward, as a
visit's own outcome does. A screening at a workplace, or at a venue this service does not hold, changes nothing."""
from __future__ import annotations

import logging
from datetime import date

from services.outreach.commands.concern import add_signal
from services.outreach.commands.scope import Context
from services.outreach.storage import VENUES

CONSUMER = "outreach.screenings"
log = logging.getLogger("actionplan.outreach")


class ScreeningOutcomes:
    def __init__(self, ctx: Context) -> None:
        self.ctx, self.store = ctx, ctx.store

    def on_screening(self, event: dict) -> bool:
        data = event["data"]

        def effect(session):
            if data.get("venueId") is None:
                return
            venue = self.store.get(VENUES, data["venueId"], session)
            if venue is None:
                log.warning("screening %s names venue %s, which outreach does not hold", data["screeningId"],
                            data["venueId"])
                return
            add_signal(self.store, session, venue, "screening_outcome", data["screeningId"],
                       date.fromisoformat(data["screenedOn"]), data["outcome"], self.ctx.rules, self.ctx.today())
        return self.store.handle_once(CONSUMER, event, effect)
