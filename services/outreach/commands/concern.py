"""Recompute a venue's concern from its signals, in the transaction that changed them; publish a change of level
or of "of concern" once. The sweep recomputes decayed scores one venue per transaction."""
from __future__ import annotations

from datetime import date

from services.outreach import views
from services.outreach.domain import events
from services.outreach.domain.concern import Concern, ConcernRules, Signal, score
from services.outreach.domain.visits import next_due
from services.outreach.storage import VENUES, VISITS, OutreachStore

SWEEP_CHUNK = 200


def signal_doc(venue_id: str, kind: str, source_id: str, on: date, value) -> dict:
    return {"_id": f"{venue_id}:{kind}:{source_id}", "venue_id": venue_id, "kind": kind, "source_id": source_id,
            "on": on.isoformat(), "value": value}


def refresh(store: OutreachStore, session, venue: dict, rules: ConcernRules, on: date, cause: str) -> Concern:
    venue = store.get(VENUES, venue["_id"], session)  # as this transaction sees it: the level compared is current
    signals = [Signal(d["kind"], d["source_id"], date.fromisoformat(d["on"]), d["value"])
               for d in store.signals_of(session, venue["_id"])]
    concern = score(signals, rules, on)
    before = venue.get("concern") or {"level": "none", "of_concern": False, "score": 0.0}
    store.update(session, VENUES, venue["_id"], {"concern": views.concern_summary(concern), "score": concern.score})
    if concern.level != before["level"] or concern.of_concern != before["of_concern"]:
        store.emit(session, events.CONCERN_CHANGED, venue["_id"], events.concern_changed(
            venue_id=venue["_id"], region=venue["region"], score=concern.score, level=concern.level,
            previous_level=before["level"], of_concern=concern.of_concern,
            previously_of_concern=bool(before["of_concern"]), ruleset_version=concern.ruleset_version, cause=cause))
        _pull_revisits_forward(store, session, venue, concern.level, rules, on)
    return concern


def _pull_revisits_forward(store, session, venue, level, rules, on) -> None:
    """A venue whose concern rose is revisited sooner: open revisits due later than the new interval move up."""
    last = venue.get("last_visited_on")
    due = next_due(date.fromisoformat(last), level, rules) if last else None
    if due is None:
        return
    due = max(due, on)
    for visit in store.find(VISITS, {"venue_id": venue["_id"], "state": "planned", "cause": "revisit",
                                     "due_on": {"$gt": due.isoformat()}}, session=session):
        store.update(session, VISITS, visit["_id"], {"due_on": due.isoformat()}, expect={"state": "planned"})


def add_signal(store, session, venue: dict, kind: str, source_id: str, on: date, value, rules, today: date):
    store.put_signal(session, signal_doc(venue["_id"], kind, source_id, on, value))
    return refresh(store, session, venue, rules, today, "signal")


def sweep(store: OutreachStore, rules: ConcernRules, on: date) -> int:
    """Recompute every venue with a score; one small transaction per venue, so the sweep never holds a big one
    and an interrupted sweep just runs again. Returns how many changed level."""
    changed, after = 0, None
    while True:
        ids = store.venue_ids_with_score(after, SWEEP_CHUNK)
        if not ids:
            return changed
        for venue_id in ids:
            def work(session, venue_id=venue_id):
                venue = store.get(VENUES, venue_id, session)
                before = (venue.get("concern") or {}).get("level")
                cause = "rules" if (venue.get("concern") or {}).get("ruleset_version") != rules.version else "decay"
                return refresh(store, session, venue, rules, on, cause).level != before
            changed += bool(store.transaction(work))
        after = ids[-1]
