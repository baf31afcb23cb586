"""Systematic screening visits: planning per team and region, visit records, revisits from the concern level, and
the overdue sweep (each overdue visit reported once, whichever instance sees it first)."""
from __future__ import annotations

from datetime import date

from services.outreach import codec, inputs, views
from services.outreach.commands.concern import refresh, signal_doc
from services.outreach.commands.funding import attribute
from services.outreach.commands.scope import Context, new_id
from services.outreach.commands.venues import visible_venue
from services.outreach.domain import events
from services.outreach.domain.errors import InvalidVisit, UnknownVisit
from services.outreach.domain.reference import team as find_team
from services.outreach.domain.visits import check_due, check_visit, next_due
from services.outreach.storage import VENUES, VISITS

SWEEP_CHUNK = 200


def planned_event(doc: dict) -> dict:
    return events.visit_planned(visit_id=doc["_id"], venue_id=doc["venue_id"], team_id=doc["team_id"],
                                organisation=doc["organisation"], region=doc["region"], due_on=doc["due_on"],
                                cause=doc["cause"])


def plan_doc(venue: dict, team, due_on: date, cause: str) -> dict:
    return {"_id": new_id("vis"), "venue_id": venue["_id"], "team_id": team.id, "organisation": team.organisation,
            "region": venue["region"], "state": "planned", "due_on": due_on.isoformat(), "cause": cause,
            "visited_on": None, "record": None, "funding": None}


class VisitCommands:
    def __init__(self, ctx: Context) -> None:
        self.ctx, self.store = ctx, ctx.store

    def _team_at(self, team_id, venue: dict):
        team = find_team(team_id)
        self.ctx.scope.check_team(team)
        self.ctx.scope.check_may_act_in(venue["region"], "venue_id")
        team.check_works_in(venue["region"])
        return team

    def plan(self, *, venue_id, team_id, due_on, actor, request_id=None) -> dict:
        who = inputs.actor(actor)
        due = check_due(inputs.day(due_on, "due_on"), self.ctx.today())

        def work(session):
            venue = visible_venue(self.ctx, venue_id, session)
            team = self._team_at(team_id, venue)
            doc = plan_doc(venue, team, due, "planned")
            self.store.insert(session, VISITS, doc)
            self.store.emit(session, events.VISIT_PLANNED, venue["_id"], planned_event(doc))
            return views.visit(doc)
        return self.store.run_once("plan_visit", request_id, dict(venue_id=venue_id, team_id=team_id,
                                                                   due_on=due.isoformat(), actor=who), work)

    def record(self, *, venue_id, team_id, visited_on, people_met, materials, health_services,
               identification_talk, indicators, follow_up_needed, funding, actor, screening_outcome=None,
               visit_id=None, request_id=None) -> dict:
        who, today = inputs.actor(actor), self.ctx.today()
        record = check_visit(visited_on=inputs.day(visited_on, "visited_on"), people_met=people_met,
                             materials=materials, health_services=health_services,
                             identification_talk=identification_talk, indicators=indicators,
                             screening_outcome=screening_outcome, follow_up_needed=follow_up_needed, today=today)
        planned_id = inputs.optional_record_id(visit_id, "visit_id")
        # the team and venue are checked before asking grants, so a refused caller learns nothing from the answer
        venue = visible_venue(self.ctx, venue_id)
        team = self._team_at(team_id, venue)
        paid_by = attribute(self.ctx.funding, funding, team.organisation)
        arguments = dict(venue_id=venue["_id"], team_id=team.id, record=codec.visit_record(record),
                         visited_on=record.visited_on.isoformat(), funding=paid_by.as_dict(), visit_id=planned_id,
                         actor=who)

        def work(session):
            current = visible_venue(self.ctx, venue["_id"], session)
            doc = self._planned(session, current, team, planned_id) or plan_doc(current, team, record.visited_on,
                                                                                  "unplanned")
            done = {**doc, "state": "done", "visited_on": record.visited_on.isoformat(),
                    "record": codec.visit_record(record), "funding": paid_by.as_dict(), "by": who}
            if doc.get("cause") == "unplanned":
                self.store.insert(session, VISITS, done)
            else:
                self.store.update(session, VISITS, doc["_id"], {k: done[k] for k in (
                    "state", "visited_on", "record", "funding", "by")})
            last = max(filter(None, (current.get("last_visited_on"), done["visited_on"])))
            self.store.update(session, VENUES, current["_id"], {"last_visited_on": last})
            current = {**current, "last_visited_on": last}
            self.store.emit(session, events.VISIT_RECORDED, current["_id"], events.visit_recorded(
                visit_id=done["_id"], venue_id=done["venue_id"], team_id=done["team_id"],
                organisation=done["organisation"], region=done["region"], record=record, funding=paid_by))
            concern = self._signals(session, current, done, record, today)
            following = self._revisit(session, current, team, record.visited_on, concern.level, today)
            return {**views.visit(done), "next_visit": views.visit_brief(following)}
        return self.store.run_once("record_visit", request_id, arguments, work)

    def _planned(self, session, venue: dict, team, planned_id: str | None) -> dict | None:
        if planned_id is None:
            return self.store.open_visit(session, venue["_id"], team.id)
        doc = self.store.get(VISITS, planned_id, session)
        if doc is None or not self.ctx.scope.sees(doc["region"]):
            raise UnknownVisit(f"no visit {planned_id}", "visit_id")
        if doc["venue_id"] != venue["_id"] or doc["team_id"] != team.id or doc["state"] not in ("planned",
                                                                                                "overdue"):
            raise InvalidVisit(f"visit {planned_id} is not an open visit of this team to this venue", "visit_id")
        return doc

    def _signals(self, session, venue, done, record, today):
        """The visit's indicators and screening outcome are signals of the venue; one recomputation for both."""
        if record.indicators:
            self.store.put_signal(session, signal_doc(venue["_id"], "visit_indicators", done["_id"],
                                                      record.visited_on, len(record.indicators)))
        if record.screening_outcome:
            self.store.put_signal(session, signal_doc(venue["_id"], "screening_outcome", done["_id"],
                                                      record.visited_on, record.screening_outcome))
        return refresh(self.store, session, venue, self.ctx.rules, today, "signal")

    def _revisit(self, session, venue, team, visited_on, level, today) -> dict | None:
        """The next visit of this team, due after the concern level's interval (none at level none)."""
        existing = self.store.open_visit(session, venue["_id"], team.id)
        due = next_due(visited_on, level, self.ctx.rules)
        if existing is not None or due is None:
            return existing
        doc = plan_doc(venue, team, max(due, today), "revisit")
        self.store.insert(session, VISITS, doc)
        self.store.emit(session, events.VISIT_PLANNED, venue["_id"], planned_event(doc))
        return doc

    def sweep_overdue(self, today: date) -> int:
        """Mark visits past their due date overdue, one conditional update each: reported once even when two
        instances sweep at the same moment."""
        reported = 0
        while True:
            due = self.store.due_before(today.isoformat(), SWEEP_CHUNK)
            if not due:
                return reported
            for doc in due:
                def work(session, doc=doc):
                    if not self.store.update(session, VISITS, doc["_id"], {"state": "overdue",
                                                                           "overdue_on": today.isoformat()},
                                             expect={"state": "planned"}):
                        return False
                    self.store.emit(session, events.VISIT_OVERDUE, doc["venue_id"], events.visit_overdue(
                        visit_id=doc["_id"], venue_id=doc["venue_id"], team_id=doc["team_id"],
                        organisation=doc["organisation"], region=doc["region"], due_on=doc["due_on"],
                        detected_on=today))
                    return True
                reported += bool(self.store.transaction(work))
