"""The read side: venues, concern explanations, the visit plan, visits, tasks, reference data and aggregates.

Every list is a keyset page on the index of its order; region-scoped callers see their region only."""
from __future__ import annotations

from collections import Counter
from datetime import date

from services.outreach import codec, inputs, views
from services.outreach.commands.contacts import visible_task
from services.outreach.commands.scope import Context
from services.outreach.commands.venues import venue_answer, visible_venue
from services.outreach.domain.concern import Signal, score
from services.outreach.domain.errors import UnknownVisit
from services.outreach.domain.geography import Geography
from services.outreach.domain.reference import budget_lines, code, labelled, teams
from services.outreach.domain.tasks import PRIORITY_RANK, STATES
from services.outreach.storage import CONTACTS, PLAN_ORDER, VENUE_ORDER, VENUES, VISIT_ORDER, VISITS

CODE_LISTS = ("venueKinds", "languageGroups", "materials", "healthServices", "identificationTalk", "indicators",
              "screeningOutcomes", "inspectionFindings", "agencies", "channels", "outcomes", "consentScopes",
              "closeReasons")


class OutreachQueries:
    def __init__(self, ctx: Context) -> None:
        self.ctx, self.store = ctx, ctx.store

    def _region(self, region) -> dict:
        """The region filter: the caller's own region wins; asking for another answers nothing (no oracle)."""
        asked = None if region is None else inputs.text(region, "region", limit=20)
        if asked is not None and asked not in Geography.load().regions:
            raise inputs.InvalidInput(f"region must be one of {', '.join(Geography.load().regions)}", "region",
                                      "unknown_code")
        mine = self.ctx.scope.region
        if mine is not None and asked not in (None, mine):
            return {"region": "__none__"}
        chosen = mine or asked
        return {"region": chosen} if chosen else {}

    def reference(self) -> dict:
        g, rules = Geography.load(), self.ctx.rules
        return {"regions": [{"id": r.id, "code": r.code, "name_da": r.name_da, "name_en": r.name_en}
                            for r in g.regions.values()],
                "municipalities": [{"code": m.code, "name": m.name, "region": m.region}
                                   for m in g.municipalities.values()],
                "teams": [t.__dict__ for t in teams().values()],
                "budget_lines": [b.__dict__ for b in budget_lines().values()],
                "codes": {k: labelled(k) for k in CODE_LISTS},
                "concern_rules": {"version": rules.version, "levels": [[n, t] for n, t in rules.levels],
                                  "of_concern_from": rules.of_concern_from, "revisit_days": rules.revisit_days,
                                  "half_lives": {k: rules.half_life(k) for k in rules.signals}}}

    def venue(self, venue_id) -> dict:
        return venue_answer(self.ctx, visible_venue(self.ctx, venue_id))

    def venues(self, region=None, of_concern=None, kind=None, first=20, after=None) -> dict:
        query = self._region(region)
        if of_concern is not None:
            query["concern.of_concern"] = inputs.flag(of_concern, "of_concern")
        if kind is not None:
            query["kind"] = code("venueKinds", kind, "kind")
        result = self.store.page(VENUES, query, VENUE_ORDER, inputs.first(first), inputs.after(after))
        return views.page(result, lambda d: venue_answer(self.ctx, d))

    def address(self, venue_id) -> dict:
        doc = visible_venue(self.ctx, venue_id)
        return views.address_view(doc, codec.venue_address(doc, self.store.unseal))

    def concern(self, venue_id) -> dict:
        doc = visible_venue(self.ctx, venue_id)
        signals = [Signal(s["kind"], s["source_id"], date.fromisoformat(s["on"]), s["value"])
                   for s in self.store.signals_of(None, doc["_id"])]
        return views.explanation(doc, score(signals, self.ctx.rules, self.ctx.today()), self.ctx.rules)

    def visit(self, visit_id) -> dict:
        checked = inputs.record_id(visit_id, "visit_id")
        doc = self.store.get(VISITS, checked)
        if doc is None or not self.ctx.scope.sees(doc["region"]):
            raise UnknownVisit(f"no visit {checked}", "visit_id")
        return views.visit(doc)

    def plan(self, team_id=None, region=None, state=None, due_before=None, first=20, after=None) -> dict:
        query = {**self._region(region), "state": {"$in": ["planned", "overdue"]}}
        if state is not None:
            query["state"] = _plan_state(state)
        if team_id is not None:
            query["team_id"] = inputs.text(team_id, "team_id", limit=40)
        if due_before is not None:
            query["due_on"] = {"$lt": inputs.day(due_before, "due_before").isoformat()}
        result = self.store.page(VISITS, query, PLAN_ORDER, inputs.first(first), inputs.after(after))
        return views.page(result, views.visit)

    def visits(self, venue_id=None, team_id=None, first=20, after=None) -> dict:
        query = {**self._region(None), "state": "done"}
        if venue_id is not None:
            query["venue_id"] = visible_venue(self.ctx, venue_id)["_id"]
        if team_id is not None:
            query["team_id"] = inputs.text(team_id, "team_id", limit=40)
        result = self.store.page(VISITS, query, VISIT_ORDER, inputs.first(first), inputs.after(after))
        return views.page(result, views.visit)

    def tasks(self, state=None, priority=None, first=20, after=None) -> dict:
        states, ranks = ["open", "in_progress"], [1, 2, 3]  # the default list: open work, priority low or above
        if state is not None:
            if state not in STATES:
                raise inputs.InvalidInput(f"state must be one of {', '.join(STATES)}", "state", "unknown_code")
            states = [state]
        if priority is not None:
            if priority not in PRIORITY_RANK:
                raise inputs.InvalidInput(f"priority must be one of {', '.join(PRIORITY_RANK)}", "priority",
                                          "unknown_code")
            ranks = [PRIORITY_RANK[priority]]
        query: dict = {"state": {"$in": states}, "priority_rank": {"$in": ranks}}
        region = self.ctx.scope.region
        if region is not None:
            query["regions"] = region
        result = self.store.task_page(query, states, ranks, region, inputs.first(first), inputs.after(after))
        return views.page(result, views.task)

    def task(self, task_id) -> dict:
        return views.task(visible_task(self.ctx, task_id))

    def activity(self, from_on=None, to_on=None) -> dict:
        """Aggregates only (no ids, no venue): what the evaluation of initiatives 1 and 3 needs."""
        start = inputs.optional_day(from_on, "from_on")
        end = inputs.optional_day(to_on, "to_on")
        window: dict = {}
        if start:
            window["$gte"] = start.isoformat()
        if end:
            window["$lte"] = end.isoformat()
        visit_match = {"state": "done", **({"visited_on": window} if window else {})}
        contact_match = {"occurred_on": window} if window else {}
        # counted here rather than with $group: nx-27017 answers a $group on a sub-document key with the literal
        # expression; the documents are read through projections of the few fields counted
        visits: Counter = Counter()
        people: Counter = Counter()
        by_language: Counter = Counter()
        for doc in self.store.find(VISITS, visit_match, fields=("region", "organisation", "visited_on", "record")):
            key = (doc["visited_on"][:7], doc["region"], doc.get("organisation") or "")
            record = doc.get("record") or {}
            visits[key] += 1
            people[key] += record.get("people_met_total", 0)
            by_language.update(record.get("people_met", {}))
        contacts = Counter((c["channel"], c["outcome"])
                           for c in self.store.find(CONTACTS, contact_match, fields=("channel", "outcome")))
        concern = Counter(v["region"] for v in self.store.find(VENUES, {"concern.of_concern": True},
                                                                fields=("region",)))
        tasks = {state: self.store.count_tasks([state], [0, 1, 2, 3], None) for state in STATES}
        return {"visits": [{"month": m, "region": r, "organisation": o, "count": n, "people_met": people[(m, r, o)]}
                           for (m, r, o), n in sorted(visits.items())],
                "people_met_by_language": dict(sorted(by_language.items())),
                "contacts": [{"channel": ch, "outcome": out, "count": n} for (ch, out), n in sorted(contacts.items())],
                "identification_talks": sum(n for (ch, _), n in contacts.items() if ch == "identification_talk"),
                "venues_of_concern": [{"region": r, "count": n} for r, n in sorted(concern.items())],
                "tasks": tasks}


def _plan_state(state) -> str:
    if state not in ("planned", "overdue"):
        raise inputs.InvalidInput("state must be planned or overdue", "state", "unknown_code")
    return state
