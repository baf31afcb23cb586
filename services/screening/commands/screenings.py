"""Screenings (scored with a pinned instrument version), joint inspections of the authorities group, and the
identification talk that meets a "refer" outcome's deadline."""
from __future__ import annotations

from datetime import datetime

from services.screening import codec, inputs, views
from services.screening.commands.scope import Context, new_id
from services.screening.domain import events
from services.screening.domain.errors import InvalidContext, InvalidDate, UnknownScreening
from services.screening.domain.instruments import check_answers, instrument as find_instrument
from services.screening.domain.places import region_of
from services.screening.domain.scoring import score
from services.screening.domain.sectors import sector as find_sector
from services.screening.storage import INSPECTIONS, SCREENINGS

REFER = "refer_for_identification"
TALK_HELD = "identification_talk_held"
EARLIEST = "2016-01-01"  # the amendment's screening starts in 2016; an earlier date is a typo


def at(moment: datetime) -> str:
    return events.iso_time(moment)


def visible_screening(ctx: Context, screening_id, session=None) -> dict:
    sid = inputs.record_id(screening_id, "screening_id")
    doc = ctx.store.get(SCREENINGS, sid, session)
    if doc is None or not ctx.scope.reaches(doc["organisation"]):
        raise UnknownScreening(f"no screening {sid}", "screening_id")
    return doc


def _screened_on(value, today) -> str:
    day = inputs.day(value, "screened_on")
    if day.isoformat() < EARLIEST or day > today:
        raise InvalidDate(f"screened_on must lie between {EARLIEST} and today", "screened_on")
    return day.isoformat()


def _context(kind: str, *, municipality, sector, venue_id, joint_inspection_id) -> dict:
    region = region_of(municipality)
    code = municipality.lstrip("0")
    if kind == "workplace":
        if sector is None:
            raise InvalidContext("a workplace screening names the sector (a DB07 code)", "sector")
        if venue_id is not None:
            raise InvalidContext("a workplace screening has no outreach venue", "venue_id")
        found = find_sector(sector)
        return {"kind": kind, "sector": found.code, "isic": found.isic, "municipality": code, "region": region,
                "venue_id": None, "joint_inspection_id": joint_inspection_id}
    if venue_id is None:
        raise InvalidContext("a screening at a venue names the outreach venue", "venue_id")
    if sector is not None or joint_inspection_id is not None:
        raise InvalidContext("a screening at a venue has no sector or joint inspection", "sector")
    return {"kind": kind, "sector": None, "isic": None, "municipality": code, "region": region,
            "venue_id": venue_id, "joint_inspection_id": None}


class ScreeningCommands:
    def __init__(self, ctx: Context) -> None:
        self.ctx, self.store = ctx, ctx.store

    def record(self, *, instrument, answers, screened_on, municipality, actor, instrument_version=None,
               sector=None, venue_id=None, joint_inspection_id=None, language_group=None, age_band=None,
               gender=None, identification_talk="not_offered", request_id=None) -> dict:
        who, now = inputs.actor(actor), self.ctx.now()
        used = find_instrument(inputs.code(instrument, "instrument"),
                               None if instrument_version is None else inputs.text(instrument_version,
                                                                                    "instrument_version", limit=20))
        checked = check_answers(used, inputs.answers(answers))
        context = _context(used.context, municipality=inputs.text(municipality, "municipality", limit=4),
                           sector=None if sector is None else inputs.text(sector, "sector", limit=8),
                           venue_id=inputs.optional_record_id(venue_id, "venue_id"),
                           joint_inspection_id=inputs.optional_record_id(joint_inspection_id,
                                                                         "joint_inspection_id"))
        person = {"language_group": inputs.optional_code(language_group, "language_group"),
                  "age_band": inputs.optional_choice(age_band, "age_band", inputs.AGE_BANDS),
                  "gender": inputs.optional_choice(gender, "gender", inputs.GENDERS)}
        talk = inputs.choice(identification_talk, "identification_talk", inputs.TALK_STATES)
        day = _screened_on(screened_on, self.ctx.today())
        result = score(used, checked)
        organisation = self.ctx.scope.acting_for
        arguments = dict(instrument=used.id, version=used.version, answers=checked, day=day, context=context,
                         person=person, talk=talk, actor=who)

        def work(session):
            if context["joint_inspection_id"]:
                self._inspection(context["joint_inspection_id"], session)
            sid = new_id("scr")
            refer = result.outcome == REFER
            marks = [[REFER, at(now)]] if refer else []
            if refer and talk == "held":
                marks.append([TALK_HELD, at(now)])
            doc = {"_id": sid, "organisation": organisation, "recorded_by": who, "screened_on": day,
                   "recorded_at": at(now), "context": context, "person": person, "instrument": used.id,
                   "version": used.version, "answers": codec.seal_answers(sid, checked, self.store.seal),
                   "scoring": codec.scoring(result), "identification_talk": talk,
                   "consent": {"scope": [], "version": 0}, "marks": marks, "escalated": [],
                   "deadline_open": refer and talk != "held"}
            self.store.insert(session, SCREENINGS, doc)
            self.store.emit(session, events.SCREENING_RECORDED, sid, recorded_event(doc))
            return views.screening(doc)
        return self.store.run_once("record_screening", request_id, arguments, work)

    def _inspection(self, inspection_id: str, session) -> dict:
        doc = self.store.get(INSPECTIONS, inspection_id, session)
        if doc is None:
            raise InvalidContext(f"no joint inspection {inspection_id}", "joint_inspection_id")
        return doc

    def joint_inspection(self, *, inspected_on, agencies, sector, municipality, actor, request_id=None) -> dict:
        who = inputs.actor(actor)
        day = inputs.day(inspected_on, "inspected_on")
        if day.isoformat() < EARLIEST or day > self.ctx.today():
            raise InvalidDate(f"inspected_on must lie between {EARLIEST} and today", "inspected_on")
        policy = self.ctx.policy
        if not isinstance(agencies, list) or not agencies or len(agencies) > len(policy.agencies):
            raise InvalidContext("agencies must list the agencies present (at least one)", "agencies")
        present = sorted({policy.agency(inputs.code(a, "agencies")).id for a in agencies})
        found = find_sector(inputs.text(sector, "sector", limit=8))
        code = inputs.text(municipality, "municipality", limit=4)
        region = region_of(code)
        arguments = dict(day=day.isoformat(), agencies=present, sector=found.code, municipality=code, actor=who)

        def work(session):
            doc = {"_id": new_id("jin"), "organisation": self.ctx.scope.acting_for, "recorded_by": who,
                   "inspected_on": day.isoformat(), "agencies": present, "sector": found.code, "isic": found.isic,
                   "municipality": code.lstrip("0"), "region": region}
            self.store.insert(session, INSPECTIONS, doc)
            self.store.emit(session, events.INSPECTION_RECORDED, doc["_id"], events.inspection_recorded(
                inspection_id=doc["_id"], organisation=doc["organisation"], recorded_by=who,
                inspected_on=doc["inspected_on"], agencies=present, sector=found.code, region=region,
                municipality=doc["municipality"]))
            return views.inspection(doc)
        return self.store.run_once("record_joint_inspection", request_id, arguments, work)

    def talk(self, *, screening_id, held_on, actor, request_id=None) -> dict:
        who, now = inputs.actor(actor), self.ctx.now()
        day = inputs.day(held_on, "held_on")
        if day > self.ctx.today():
            raise InvalidDate("held_on must not lie in the future", "held_on")

        def work(session):
            doc = visible_screening(self.ctx, screening_id, session)
            if day.isoformat() < doc["screened_on"]:
                raise InvalidDate("held_on must not lie before the screening", "held_on")
            marks = doc["marks"] + [[TALK_HELD, at(now)]]
            changed = {"identification_talk": "held", "talk_held_on": day.isoformat(), "marks": marks,
                       "deadline_open": False}
            self.store.set_if(session, SCREENINGS, doc["_id"], {}, changed)
            self.store.emit(session, events.TALK_HELD, doc["_id"], events.talk_held(
                screening_id=doc["_id"], organisation=self.ctx.scope.acting_for, recorded_by=who,
                held_on=day))
            return views.screening({**doc, **changed})
        return self.store.run_once("record_identification_talk", request_id,
                                   dict(screening_id=screening_id, day=day.isoformat(), actor=who), work)


def recorded_event(doc: dict) -> dict:
    context, scoring = doc["context"], doc["scoring"]
    return events.screening_recorded(
        screening_id=doc["_id"], organisation=doc["organisation"], recorded_by=doc["recorded_by"],
        screened_on=doc["screened_on"], context=context["kind"], instrument=doc["instrument"],
        version=doc["version"], outcome=scoring["outcome"], indicator_count=len(scoring["fired"]),
        methods_of_control=scoring["methods_of_control"], sector=context["sector"], region=context["region"],
        municipality=context["municipality"], venue_id=context["venue_id"],
        joint_inspection_id=context["joint_inspection_id"], identification_talk=doc["identification_talk"])


__all__ = ["ScreeningCommands", "visible_screening"]
