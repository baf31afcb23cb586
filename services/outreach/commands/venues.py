"""Venues: registration, links to ad clusters, inspection notes and identifications (each a concern signal)."""
from __future__ import annotations

from services.outreach import codec, inputs, views
from services.outreach.commands.concern import add_signal
from services.outreach.commands.scope import Context, new_id
from services.outreach.domain import events
from services.outreach.domain.errors import UnknownCluster, UnknownVenue
from services.outreach.domain.geography import Geography
from services.outreach.domain.reference import code, code_list
from services.outreach.domain.tasks import task_id_for
from services.outreach.domain.venues import MAX_LINKED_CLUSTERS, new_venue
from services.outreach.domain.visits import check_day
from services.outreach.storage import IDENTIFICATIONS, NOTES, TASKS, VENUES, VISITS


def visible_venue(ctx: Context, venue_id: object, session=None) -> dict:
    """The venue, if the caller may see it; a venue outside the caller's region is as unknown as a missing one."""
    checked = inputs.record_id(venue_id, "venue_id")
    doc = ctx.store.get(VENUES, checked, session)
    if doc is None or not ctx.scope.sees(doc["region"]):
        raise UnknownVenue(f"no venue {checked}", "venue_id")
    return doc


def venue_answer(ctx: Context, doc: dict, session=None) -> dict:
    planned = ctx.store.find(VISITS, {"venue_id": doc["_id"], "state": {"$in": ["planned", "overdue"]}},
                             session=session, sort=[("due_on", 1), ("_id", 1)], limit=1)
    return views.venue(doc, codec.venue_label(doc, ctx.store.unseal), views.visit_brief(planned[0] if planned
                                                                                        else None))


class VenueCommands:
    def __init__(self, ctx: Context) -> None:
        self.ctx, self.store = ctx, ctx.store

    def register(self, *, kind, label, municipality, actor, address=None, request_id=None) -> dict:
        who = inputs.actor(actor)
        checked_label = inputs.text(label, "label", limit=inputs.MAX_LABEL)
        checked_address = inputs.optional_text(address, "address", limit=inputs.MAX_ADDRESS)
        today = self.ctx.today()
        venue = new_venue(new_id("ven"), kind, checked_label, municipality, self.ctx.scope.organisation or "platform",
                          today, Geography.load())
        self.ctx.scope.check_may_act_in(venue.region, "municipality")
        arguments = dict(kind=venue.kind, label=checked_label, municipality=venue.municipality,
                         address=checked_address, actor=who)

        def work(session):
            doc = codec.venue_doc(venue, checked_address, self.store.seal)
            self.store.insert(session, VENUES, doc)
            self.store.emit(session, events.VENUE_REGISTERED, venue.venue_id, events.venue_registered(
                venue_id=venue.venue_id, kind=venue.kind, municipality=venue.municipality, region=venue.region,
                organisation=venue.organisation))
            return venue_answer(self.ctx, doc, session)
        return self.store.run_once("register_venue", request_id, arguments, work)

    def link_cluster(self, *, venue_id, cluster_id, actor, request_id=None) -> dict:
        who, cluster = inputs.actor(actor), inputs.cluster_id(cluster_id)

        def work(session):
            venue = visible_venue(self.ctx, venue_id, session)
            task = self.store.get(TASKS, task_id_for(cluster), session)
            if task is None:
                raise UnknownCluster(f"no flagged ad cluster {cluster} has reached outreach", "cluster_id")
            linked = list(venue.get("linked_clusters", ()))
            if cluster not in linked:
                if len(linked) >= MAX_LINKED_CLUSTERS:
                    raise UnknownCluster(f"a venue links at most {MAX_LINKED_CLUSTERS} clusters", "cluster_id")
                linked.append(cluster)
                self.store.update(session, VENUES, venue["_id"], {"linked_clusters": linked})
                venue = {**venue, "linked_clusters": linked}
                add_signal(self.store, session, venue, "cluster_linked", cluster, self.ctx.today(),
                           task["priority"], self.ctx.rules, self.ctx.today())
            return venue_answer(self.ctx, self.store.get(VENUES, venue["_id"], session), session)
        return self.store.run_once("link_cluster", request_id, dict(venue_id=venue_id, cluster_id=cluster,
                                                                     actor=who), work)

    def inspection_note(self, *, venue_id, on, agencies, finding, actor, note=None, request_id=None) -> dict:
        who, today = inputs.actor(actor), self.ctx.today()
        day = check_day(inputs.day(on, "on"), today, "on")
        present = code_list("agencies", agencies, "agencies", limit=6)
        if not present:
            raise inputs.InvalidInput("agencies must name at least one agency present", "agencies")
        checked_finding = code("inspectionFindings", finding, "finding")
        text = inputs.optional_text(note, "note", limit=inputs.MAX_NOTE)
        note_id = new_id("ins")

        def work(session):
            venue = visible_venue(self.ctx, venue_id, session)
            self.store.insert(session, NOTES, {"_id": note_id, "venue_id": venue["_id"], "on": day.isoformat(),
                                               "agencies": list(present), "finding": checked_finding,
                                               "note": codec.note_text(note_id, text, self.store.seal),
                                               "organisation": self.ctx.scope.organisation, "by": who})
            add_signal(self.store, session, venue, "inspection_note", note_id, day, checked_finding,
                       self.ctx.rules, today)
            return venue_answer(self.ctx, self.store.get(VENUES, venue["_id"], session), session)
        return self.store.run_once("record_inspection_note", request_id, dict(
            venue_id=venue_id, on=day.isoformat(), agencies=list(present), finding=checked_finding, note=text,
            actor=who), work)

    def identification(self, *, venue_id, on, persons, actor, request_id=None) -> dict:
        who, today = inputs.actor(actor), self.ctx.today()
        day = check_day(inputs.day(on, "on"), today, "on")
        count = inputs.persons(persons)
        record_id = new_id("idn")

        def work(session):
            venue = visible_venue(self.ctx, venue_id, session)
            self.store.insert(session, IDENTIFICATIONS, {"_id": record_id, "venue_id": venue["_id"],
                                                         "on": day.isoformat(), "persons": count, "by": who,
                                                         "organisation": self.ctx.scope.organisation})
            add_signal(self.store, session, venue, "identification", record_id, day, count, self.ctx.rules, today)
            return venue_answer(self.ctx, self.store.get(VENUES, venue["_id"], session), session)
        return self.store.run_once("record_identification", request_id, dict(
            venue_id=venue_id, on=day.isoformat(), persons=count, actor=who), work)
