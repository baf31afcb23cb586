"""The read side: instruments and sectors (reference data), screenings, consent and its history, referrals with
their timelines (a partner sees only those sent to it), and overrides for the organisation that made them."""
from __future__ import annotations

from services.screening import codec, inputs, views
from services.screening.commands.referrals import ReferralCommands
from services.screening.commands.scope import Context
from services.screening.commands.screenings import visible_screening
from services.screening.domain.instruments import catalogue, instrument as find_instrument, versions
from services.screening.domain.referrals import STATES
from services.screening.domain.sectors import sectors
from services.screening.storage import (CONSENT_LOG, OVERRIDES, REFERRAL_ORDER, REFERRALS, SCREENING_ORDER,
                                        SCREENINGS, encode_cursor)


def instrument_answer(found) -> dict:
    return {"instrument_id": found.id, "version": found.version, "versions": list(versions(found.id)),
            "title": dict(found.title), "context": found.context, "source": found.source, "licence": found.licence,
            "rule": dict(found.rule),
            "indicators": [{"indicator_id": i.id, "dimension": i.dimension, "strength": i.strength,
                            "text": dict(i.text), "methods_of_control": list(i.methods_of_control)}
                           for i in found.indicators],
            "questions": [{"question_id": q.id, "indicator": q.indicator, "text": dict(q.text)}
                          for q in found.questions]}


class ScreeningQueries:
    def __init__(self, ctx: Context) -> None:
        self.ctx, self.store = ctx, ctx.store

    def instruments(self) -> list[dict]:
        return [instrument_answer(i) for i in catalogue()]

    def instrument(self, instrument_id, version=None) -> dict:
        return instrument_answer(find_instrument(inputs.code(instrument_id, "instrument_id"),
                                                 None if version is None else inputs.text(version, "version",
                                                                                          limit=20)))

    def sectors(self) -> list[dict]:
        return [{"code": s.code, "section": s.section, "isic": s.isic, "name": dict(s.name),
                 "cmm_focus": s.cmm_focus} for s in sectors()]

    def screening(self, screening_id) -> dict:
        return views.screening(visible_screening(self.ctx, screening_id))

    def answers(self, screening_id) -> dict:
        doc = visible_screening(self.ctx, screening_id)
        given = codec.answers(doc, self.store.unseal)
        return {"screening_id": doc["_id"], "answers": [{"question": q, "answer": a} for q, a in sorted(given.items())]}

    def screenings(self, outcome, first, after) -> dict:
        query = {}
        if self.ctx.scope.organisation is not None:
            query["organisation"] = self.ctx.scope.organisation
        if outcome is not None:
            query["scoring.outcome"] = inputs.choice(outcome, "outcome", ("no_indicators", "indicators_present",
                                                                          "refer_for_identification"))
        docs, more = self.store.page(SCREENINGS, query, SCREENING_ORDER, inputs.first(first), inputs.after(after))
        return views.page([{**views.screening(d), "cursor": encode_cursor(d, SCREENING_ORDER)} for d in docs], more,
                          encode_cursor(docs[-1], SCREENING_ORDER) if docs else None)

    def consent_history(self, screening_id) -> list[dict]:
        doc = visible_screening(self.ctx, screening_id)
        return [views.consent_change(c) for c in self.store.find(CONSENT_LOG, {"screening_id": doc["_id"]},
                                                                 sort=[("version", 1)])]

    def overrides(self, screening_id) -> list[dict]:
        doc = visible_screening(self.ctx, screening_id)
        return [views.override(o, codec.reason(o, self.store.unseal))
                for o in self.store.find(OVERRIDES, {"screening_id": doc["_id"]}, sort=[("at", 1)])]

    def referral(self, referral_id, as_recipient: bool) -> dict:
        doc = ReferralCommands(self.ctx)._referral(referral_id, None, as_sender=not as_recipient)
        return views.referral(doc)

    def referrals(self, *, screening_id, state, as_recipient: bool, first, after) -> dict:
        query = {}
        if self.ctx.scope.organisation is not None:
            query["recipient" if as_recipient else "organisation"] = self.ctx.scope.organisation
        if screening_id is not None:
            query["screening_id"] = inputs.record_id(screening_id, "screening_id")
        if state is not None:
            query["state"] = inputs.choice(state, "state", STATES)
        docs, more = self.store.page(REFERRALS, query, REFERRAL_ORDER, inputs.first(first), inputs.after(after))
        return views.page([{**views.referral(d), "cursor": encode_cursor(d, REFERRAL_ORDER)} for d in docs], more,
                          encode_cursor(docs[-1], REFERRAL_ORDER) if docs else None)
