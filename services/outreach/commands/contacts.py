"""Contacts with people met, anonymous unless they agree to follow-up: then they get a random code to keep and
later contacts quoting it are linked. Consent for follow-up is an event with its scope; withdrawal ends linking."""
from __future__ import annotations

import time

from services.outreach import inputs, views
from services.outreach.commands.funding import attribute
from services.outreach.commands.scope import Context, new_id
from services.outreach.commands.venues import visible_venue
from services.outreach.domain import events
from services.outreach.domain.contacts import consent_scope, new_follow_up_code, parse_follow_up_code
from services.outreach.domain.errors import ConsentWithdrawn, InvalidVisit, UnknownFollowUp, UnknownTask
from services.outreach.domain.reference import code
from services.outreach.domain.tasks import check_attempt, reached, state_after_attempt
from services.outreach.domain.visits import check_day
from services.outreach.storage import CONTACTS, FOLLOW_UPS, TASKS, VENUES, VISITS

CHANNELS = ("visit", "sms", "call", "chat", "platform_message")


def visible_task(ctx: Context, task_id: object, session=None) -> dict:
    checked = inputs.record_id(task_id, "task_id")
    doc = ctx.store.get(TASKS, checked, session)
    if doc is None or not (ctx.scope.region is None or ctx.scope.region in doc.get("regions", ())):
        raise UnknownTask(f"no outreach task {checked}", "task_id")
    return doc


def subject_of(doc: dict) -> str:
    return events.subject_of_contact(cluster_id=doc.get("cluster_id"), venue_id=doc.get("venue_id"),
                                     fallback=doc["_id"])


class ContactCommands:
    def __init__(self, ctx: Context) -> None:
        self.ctx, self.store = ctx, ctx.store

    def _follow_up(self, session, code_text) -> dict:
        doc = self.store.follow_up_by_code(session, parse_follow_up_code(code_text))
        if doc is None:
            raise UnknownFollowUp("no follow-up with this code", "follow_up_code")
        if doc.get("withdrawn_on"):
            raise ConsentWithdrawn("the person withdrew consent to follow-up; this contact stays anonymous",
                                   "follow_up_code")
        return doc

    def record(self, *, channel, occurred_on, outcome, funding, actor, venue_id=None, visit_id=None, task_id=None,
               language_group=None, follow_up_code=None, follow_up_consent=None, request_id=None) -> dict:
        who, today = inputs.actor(actor), self.ctx.today()
        checked_channel = code_choice(channel)
        day = check_day(inputs.day(occurred_on, "occurred_on"), today, "occurred_on")
        checked_outcome = code("outcomes", outcome, "outcome")
        group = None if language_group is None else code("languageGroups", language_group, "language_group")
        if follow_up_code is not None and follow_up_consent is not None:
            raise inputs.InvalidInput("give follow_up_code (a returning person) or follow_up_consent (a new one), "
                                      "not both", "follow_up_consent")
        scope = None
        if follow_up_consent is not None:
            if not isinstance(follow_up_consent, dict) or set(follow_up_consent) != {"scope"}:
                raise inputs.InvalidInput("follow_up_consent is {scope: [codes]}", "follow_up_consent")
            scope = consent_scope(follow_up_consent["scope"])
        if checked_channel == "visit" and venue_id is None:
            raise InvalidVisit("a contact at a visit names its venue_id", "venue_id")
        venue = visible_venue(self.ctx, venue_id) if venue_id is not None else None
        task = visible_task(self.ctx, task_id) if task_id is not None else None
        planned = inputs.optional_record_id(visit_id, "visit_id")
        paid_by = attribute(self.ctx.funding, funding, self.ctx.scope.organisation or "")
        new_code = new_follow_up_code() if scope else None
        arguments = dict(channel=checked_channel, occurred_on=day.isoformat(), outcome=checked_outcome,
                         funding=paid_by.as_dict(), venue_id=venue and venue["_id"], visit_id=planned,
                         task_id=task and task["_id"], language_group=group,
                         follow_up_code=follow_up_code and parse_follow_up_code(follow_up_code),
                         consent=list(scope) if scope else None, actor=who)

        def work(session):
            if planned is not None:
                visit = self.store.get(VISITS, planned, session)
                if visit is None or venue is None or visit["venue_id"] != venue["_id"]:
                    raise InvalidVisit(f"visit {planned} is not a visit to this venue", "visit_id")
            follow_up_id = self._follow_up(session, follow_up_code)["_id"] if follow_up_code else None
            doc = self._contact(session, checked_channel, day.isoformat(), checked_outcome, venue, planned, task,
                                group, follow_up_id, paid_by, who)
            if scope:
                follow_up_id = new_id("fu")
                self.store.insert(session, FOLLOW_UPS, {
                    "_id": follow_up_id, "code_hash": self.store.code_hash(new_code), "scope": list(scope),
                    "given_on": day.isoformat(), "withdrawn_on": None, "organisation": self.ctx.scope.organisation,
                    "first_contact": doc["_id"]})
                self.store.update(session, CONTACTS, doc["_id"], {"follow_up_id": follow_up_id})
                doc = {**doc, "follow_up_id": follow_up_id}
                self.store.emit(session, events.CONSENT_GIVEN, follow_up_id, events.consent_given(
                    follow_up_id=follow_up_id, scope=scope, contact_id=doc["_id"],
                    organisation=self.ctx.scope.organisation, recorded_on=day))
            # the answer is kept with the request record for a retry: the code only sealed, never in clear
            sealed = self.store.seal(new_code, f"contact/{doc['_id']}", "follow_up_code") if new_code else None
            return {**views.contact(doc), "follow_up_code_sealed": sealed}
        answer = self.store.run_once("record_contact", request_id, arguments, work)
        sealed = answer.pop("follow_up_code_sealed", None)
        if sealed:  # the first answer and a retry's both show the code: a lost answer must not lose it
            answer["follow_up_code"] = self.store.unseal(sealed, f"contact/{answer['contact_id']}", "follow_up_code")
        return answer

    def _contact(self, session, channel, day, outcome, venue, visit_id, task, group, follow_up_id, paid_by,
                 who) -> dict:
        doc = {"_id": new_id("con"), "channel": channel, "occurred_on": day, "outcome": outcome,
               "reached": reached(outcome), "venue_id": venue and venue["_id"], "visit_id": visit_id,
               "task_id": task and task["_id"], "cluster_id": task and task["cluster_id"],
               "ruleset_version": task and task.get("ruleset_version"), "follow_up_id": follow_up_id,
               "language_group": group, "organisation": self.ctx.scope.organisation, "funding": paid_by.as_dict(),
               "by": who, "created_ns": time.time_ns()}
        self.store.insert(session, CONTACTS, doc)
        self.store.emit(session, events.CONTACT_MADE, subject_of(doc), events.contact_made(
            contact_id=doc["_id"], channel=channel, occurred_on=day, outcome=outcome,
            organisation=doc["organisation"], funding=paid_by, venue_id=doc["venue_id"], visit_id=visit_id,
            task_id=doc["task_id"], cluster_id=doc["cluster_id"], ruleset_version=doc["ruleset_version"],
            follow_up_id=follow_up_id, language_group=group))
        return doc

    def attempt(self, *, task_id, channel, at, outcome, funding, actor, request_id=None) -> dict:
        who = inputs.actor(actor)
        tried = check_attempt(channel, outcome, inputs.moment(at, "at"), self.ctx.now())
        task = visible_task(self.ctx, task_id)
        state_after_attempt(task["state"])
        paid_by = attribute(self.ctx.funding, funding, self.ctx.scope.organisation or "")
        arguments = dict(task_id=task["_id"], channel=tried.channel, at=tried.at.isoformat(), outcome=tried.outcome,
                         funding=paid_by.as_dict(), actor=who)

        def work(session):
            current = visible_task(self.ctx, task["_id"], session)
            state = state_after_attempt(current["state"])
            doc = self._contact(session, tried.channel, tried.at.date().isoformat(), tried.outcome, None, None,
                                current, None, None, paid_by, who)
            entry = {"contact_id": doc["_id"], "channel": tried.channel, "at": tried.at.isoformat(),
                     "outcome": tried.outcome, "reached": tried.reached, "organisation": doc["organisation"]}
            self.store.push_attempt(session, current["_id"], entry, {"state": state,
                                                                     "updated_at": self.ctx.now().isoformat()})
            return views.task(self.store.get(TASKS, current["_id"], session))
        return self.store.run_once("record_attempt", request_id, arguments, work)

    def talk(self, *, held_on, actor, venue_id=None, task_id=None, follow_up_code=None, request_id=None) -> dict:
        who, today = inputs.actor(actor), self.ctx.today()
        day = check_day(inputs.day(held_on, "held_on"), today, "held_on")
        if venue_id is None and task_id is None and follow_up_code is None:
            raise inputs.InvalidInput("name the venue_id, task_id or follow_up_code the talk belongs to", "venue_id")
        venue = visible_venue(self.ctx, venue_id) if venue_id is not None else None
        task = visible_task(self.ctx, task_id) if task_id is not None else None
        arguments = dict(held_on=day.isoformat(), venue_id=venue and venue["_id"], task_id=task and task["_id"],
                         follow_up_code=follow_up_code and parse_follow_up_code(follow_up_code), actor=who)

        def work(session):
            follow_up_id = self._follow_up(session, follow_up_code)["_id"] if follow_up_code else None
            doc = {"_id": new_id("con"), "channel": "identification_talk", "occurred_on": day.isoformat(),
                   "outcome": "identification_talk_held", "reached": True, "venue_id": venue and venue["_id"],
                   "visit_id": None, "task_id": task and task["_id"], "cluster_id": task and task["cluster_id"],
                   "ruleset_version": task and task.get("ruleset_version"), "follow_up_id": follow_up_id,
                   "language_group": None, "organisation": self.ctx.scope.organisation, "funding": None, "by": who,
                   "created_ns": time.time_ns()}
            self.store.insert(session, CONTACTS, doc)
            self.store.emit(session, events.TALK_HELD, subject_of(doc), events.identification_talk_held(
                held_on=doc["occurred_on"], organisation=doc["organisation"], contact_id=doc["_id"],
                venue_id=doc["venue_id"], task_id=doc["task_id"], cluster_id=doc["cluster_id"],
                ruleset_version=doc["ruleset_version"], follow_up_id=follow_up_id))
            return {"contact_id": doc["_id"], "held_on": doc["occurred_on"], "venue_id": doc["venue_id"],
                    "task_id": doc["task_id"]}
        return self.store.run_once("record_identification_talk", request_id, arguments, work)

    def withdraw(self, *, follow_up_code, actor, request_id=None) -> dict:
        who, today = inputs.actor(actor), self.ctx.today()
        canonical = parse_follow_up_code(follow_up_code)

        def work(session):
            doc = self.store.follow_up_by_code(session, canonical)
            if doc is None:
                raise UnknownFollowUp("no follow-up with this code", "follow_up_code")
            if doc.get("withdrawn_on"):
                return {"withdrawn": True, "withdrawn_on": doc["withdrawn_on"]}
            self.store.update(session, FOLLOW_UPS, doc["_id"], {"withdrawn_on": today.isoformat()},
                              expect={"withdrawn_on": None})
            self.store.emit(session, events.CONSENT_WITHDRAWN, doc["_id"], events.consent_withdrawn(
                follow_up_id=doc["_id"], organisation=self.ctx.scope.organisation, withdrawn_on=today))
            return {"withdrawn": True, "withdrawn_on": today.isoformat()}
        return self.store.run_once("withdraw_follow_up_consent", request_id, dict(code=self.store.code_hash(canonical),
                                                                                   actor=who), work)

    def follow_up(self, *, follow_up_code) -> dict:
        doc = self.store.follow_up_by_code(None, parse_follow_up_code(follow_up_code))
        if doc is None:
            raise UnknownFollowUp("no follow-up with this code", "follow_up_code")
        contacts = [c for c in self.store.find(CONTACTS, {"follow_up_id": doc["_id"]}, sort=[("occurred_on", 1),
                                                                                             ("created_ns", 1), ("_id", 1)])
                    if self.ctx.scope.region is None or self._in_region(c)]
        return {"consent": {"scope": doc["scope"], "given_on": doc["given_on"], "withdrawn_on": doc["withdrawn_on"]},
                "contacts": [{"contact_id": c["_id"], "channel": c["channel"], "occurred_on": c["occurred_on"],
                              "outcome": c["outcome"], "venue_id": c.get("venue_id"), "task_id": c.get("task_id")}
                             for c in contacts]}

    def _in_region(self, contact: dict) -> bool:
        venue = self.store.get(VENUES, contact["venue_id"]) if contact.get("venue_id") else None
        return venue is not None and venue["region"] == self.ctx.scope.region


def code_choice(channel: object) -> str:
    if not isinstance(channel, str) or channel not in CHANNELS:
        raise inputs.InvalidInput(f"channel must be one of {', '.join(CHANNELS)}", "channel", "unknown_code")
    return channel
