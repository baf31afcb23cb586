"""Referrals to CMM and the partner agencies: requested only with consent for that recipient and purpose or a
documented override; shared on the agency's own topic cut to what its legal basis allows; moved through the FHIR
Task states by the recipient; revoked on every topic that received data when consent goes."""
from __future__ import annotations

from services.screening import codec, inputs, views
from services.screening.commands.scope import Context, new_id
from services.screening.commands.screenings import at, visible_screening
from services.screening.domain import events
from services.screening.domain.consent import Consent, Pair, check_override
from services.screening.domain.errors import (ConsentRequired, PurposeNotAllowedForAgency, ReferralExists,
                                              ScreeningNotReferable, UnknownReferral)
from services.screening.domain.redaction import redact
from services.screening.domain.referrals import (TERMINAL, check_decision, check_transition, partner_payload,
                                                 revocation_payload)
from services.screening.storage import OVERRIDES, REFERRALS, SCREENINGS

# what a recipient does, as the FHIR Task state it leads to
MOVES = {"acknowledge": "received", "accept": "accepted", "reject": "rejected", "complete": "completed"}


def consent_of(doc: dict) -> Consent:
    scope = frozenset(Pair(p["recipient"], p["purpose"]) for p in doc["consent"]["scope"])
    return Consent(scope, doc["consent"]["version"])


def acknowledge_within(ctx: Context):
    _, deadlines = ctx.deadlines
    for deadline in deadlines:
        if deadline.applies_to == "referral" and deadline.starts == "requested":
            return deadline.within
    return None


class ReferralCommands:
    def __init__(self, ctx: Context) -> None:
        self.ctx, self.store = ctx, ctx.store

    # -- by the referring organisation ---------------------------------------------------------------------------
    def request(self, *, screening_id, recipient, purpose, actor, override_reason=None, request_id=None) -> dict:
        who, now = inputs.actor(actor), self.ctx.now()
        agency = self.ctx.policy.agency(inputs.code(recipient, "recipient"))
        purpose = inputs.code(purpose, "purpose")
        if purpose not in agency.purposes:
            raise PurposeNotAllowedForAgency(f"the partner policy gives {agency.id} nothing for {purpose}", "purpose")
        reason = None if override_reason is None else inputs.reason(override_reason)
        arguments = dict(screening_id=screening_id, recipient=agency.id, purpose=purpose, actor=who,
                         override=reason is not None)

        def work(session):
            screening = visible_screening(self.ctx, screening_id, session)
            if screening["scoring"]["outcome"] == "no_indicators":
                raise ScreeningNotReferable(f"screening {screening['_id']} found no indicators", "screening_id")
            if self.store.find(REFERRALS, {"screening_id": screening["_id"], "recipient": agency.id,
                                           "purpose": purpose, "state": {"$nin": list(TERMINAL)}}, session, 1):
                raise ReferralExists(f"an open referral to {agency.id} for {purpose} exists", "recipient")
            rid = new_id("ref")
            if consent_of(screening).allows(agency.id, purpose):
                basis = "consent"
            elif reason is None:
                raise ConsentRequired(f"no consent for {agency.id} / {purpose}, and no override", "recipient")
            else:
                basis = "override"
                kept = check_override(role=self.ctx.scope.role, recipient=agency.id, purpose=purpose,
                                      reason=reason, policy=self.ctx.policy)
                oid = new_id("ovr")
                self.store.insert(session, OVERRIDES, {
                    "_id": oid, "screening_id": screening["_id"], "referral_id": rid, "recipient": agency.id,
                    "purpose": purpose, "reason": codec.seal_reason(oid, kept, self.store.seal), "by": who,
                    "role": self.ctx.scope.role, "organisation": self.ctx.scope.acting_for, "at": at(now)})
                self.store.emit(session, events.CONSENT_OVERRIDDEN, screening["_id"], events.consent_overridden(
                    screening_id=screening["_id"], referral_id=rid, recipient=agency.id, purpose=purpose,
                    organisation=self.ctx.scope.acting_for, recorded_by=who, role=self.ctx.scope.role, at=now))
            within = acknowledge_within(self.ctx)
            doc = {"_id": rid, "screening_id": screening["_id"], "organisation": screening["organisation"],
                   "recipient": agency.id, "purpose": purpose, "basis": basis, "state": "requested",
                   "requested_at": at(now), "acknowledge_by": at(now + within) if within else None,
                   "timeline": [{"state": "requested", "at": at(now), "by": self.ctx.scope.acting_for}],
                   "marks": [["requested", at(now)]], "escalated": [], "decision": None, "revocation": None}
            self.store.insert(session, REFERRALS, doc)
            self._state_event(session, doc, None, "requested", now)
            payload = partner_payload(referral={**doc, "requested_at": now,
                                                "acknowledge_by": now + within if within else now},
                                      screening=_screening_for_payload(screening), agency=agency.id,
                                      subject_ref=self.store.subject_ref(agency.id, screening["_id"]))
            self.store.emit(session, events.shared(agency.id), rid,
                            redact(payload, agency.id, purpose, self.ctx.policy))
            return views.referral(doc)
        return self.store.run_once("request_referral", request_id, arguments, work)

    def revoke(self, *, referral_id, actor, request_id=None) -> dict:
        who = inputs.actor(actor)

        def work(session):
            doc = self._referral(referral_id, session, as_sender=True)
            return views.referral(self._revoke(session, doc, "referral_revoked", self.ctx.now()))
        return self.store.run_once("revoke_referral", request_id, dict(referral_id=referral_id, actor=who), work)

    def revoke_for(self, session, screening_id: str, pairs, reason: str, now, consent_only: bool) -> int:
        """Revoke every referral of a screening to ``pairs`` (None: all) that shared data: one revocation on each
        agency topic that received something."""
        done = 0
        for doc in self.store.find(REFERRALS, {"screening_id": screening_id}, session):
            if doc["revocation"] is not None:
                continue
            if pairs is not None and Pair(doc["recipient"], doc["purpose"]) not in pairs:
                continue
            if consent_only and doc["basis"] != "consent":
                continue
            self._revoke(session, doc, reason, now)
            done += 1
        return done

    def _revoke(self, session, doc: dict, reason: str, now) -> dict:
        changed = {"revocation": {"reason": reason, "at": at(now)}}
        if doc["state"] not in TERMINAL:
            check_transition(doc["state"], "revoked")
            changed.update(state="revoked", timeline=doc["timeline"] + [
                {"state": "revoked", "at": at(now), "by": self.ctx.scope.acting_for}],
                marks=doc["marks"] + [["revoked", at(now)]])
        self.store.set_if(session, REFERRALS, doc["_id"], {"revocation": None}, changed)
        if "state" in changed:
            self._state_event(session, doc, doc["state"], "revoked", now)
        self.store.emit(session, events.revoked(doc["recipient"]), doc["_id"], revocation_payload(
            referral_id=doc["_id"], agency=doc["recipient"], revoked_at=now, reason=reason,
            subject_ref=self.store.subject_ref(doc["recipient"], doc["screening_id"])))
        return {**doc, **changed}

    # -- by the recipient --------------------------------------------------------------------------------------------
    def move(self, *, referral_id, action, actor, status=None, request_id=None) -> dict:
        who, now = inputs.actor(actor), self.ctx.now()
        target = MOVES[inputs.choice(action, "action", tuple(MOVES))]
        decision = None
        if status is not None:
            if target != "completed":
                raise inputs.InvalidInput("a decision comes with complete", "status")
            decision = check_decision(status, self.ctx.scope.acting_for, self.ctx.policy)

        def work(session):
            doc = self._referral(referral_id, session, as_sender=False)
            check_transition(doc["state"], target)
            changed = {"state": target, "timeline": doc["timeline"] + [
                {"state": target, "at": at(now), "by": self.ctx.scope.acting_for}],
                "marks": doc["marks"] + [[target, at(now)]]}
            if decision is not None:
                changed["decision"] = {"status": decision.status, "decided_by": decision.decided_by,
                                       "at": at(now)}
            if not self.store.set_if(session, REFERRALS, doc["_id"], {"state": doc["state"]}, changed):
                raise UnknownReferral(f"referral {doc['_id']} changed meanwhile; read it again", "referral_id")
            self._state_event(session, doc, doc["state"], target, now)
            if decision is not None:
                self.store.emit(session, events.DECISION_RECORDED, doc["_id"], events.decision_recorded(
                    referral_id=doc["_id"], screening_id=doc["screening_id"], status=decision.status,
                    decided_by=decision.decided_by, at=now))
            return views.referral({**doc, **changed})
        return self.store.run_once(f"{action}_referral", request_id,
                                   dict(referral_id=referral_id, actor=who, status=status), work)

    # -- shared ------------------------------------------------------------------------------------------------------
    def _referral(self, referral_id, session, *, as_sender: bool) -> dict:
        rid = inputs.record_id(referral_id, "referral_id")
        doc = self.store.get(REFERRALS, rid, session)
        scope = self.ctx.scope
        if doc is not None and scope.organisation is not None:
            # the sender reaches its own referrals; a recipient only those sent to it; anything else is unknown
            mine = doc["organisation"] if as_sender else doc["recipient"]
            if mine != scope.organisation:
                doc = None
        if doc is None:
            raise UnknownReferral(f"no referral {rid}", "referral_id")
        return doc

    def _state_event(self, session, doc: dict, previous, state: str, now) -> None:
        self.store.emit(session, events.REFERRAL_STATE_CHANGED, doc["_id"], events.referral_state_changed(
            referral_id=doc["_id"], screening_id=doc["screening_id"], recipient=doc["recipient"],
            purpose=doc["purpose"], state=state, previous=previous, basis=doc["basis"],
            organisation=self.ctx.scope.acting_for, at=now))


def _screening_for_payload(doc: dict) -> dict:
    scoring = doc["scoring"]
    return {"instrument": doc["instrument"], "version": doc["version"], "outcome": scoring["outcome"],
            "screened_on": doc["screened_on"], "rule": scoring["rule"],
            "fired": [{"indicator": f["indicator"], "strength": f["strength"], "dimension": f["dimension"]}
                      for f in scoring["fired"]],
            "methods_of_control": scoring["methods_of_control"],
            "context": {"sector": doc["context"]["sector"], "isic": doc["context"]["isic"],
                        "municipality": doc["context"]["municipality"], "region": doc["context"]["region"],
                        "joint_inspection": doc["context"]["joint_inspection_id"] is not None},
            "person": dict(doc["person"])}


__all__ = ["ReferralCommands", "SCREENINGS"]
