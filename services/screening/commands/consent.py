"""Consent per screening as (recipient, purpose) pairs: granted on a legal basis, narrowed or withdrawn. Every change
is an event with its scope and who recorded it; taking consent back revokes the referrals that relied on it, on
each agency topic that received them."""
from __future__ import annotations

from services.screening import codec, inputs, views
from services.screening.commands.referrals import ReferralCommands, consent_of
from services.screening.commands.scope import Context
from services.screening.commands.screenings import at, visible_screening
from services.screening.domain import consent as rules
from services.screening.domain import events
from services.screening.domain.errors import InvalidConsent
from services.screening.storage import CONSENT_LOG, SCREENINGS


class ConsentCommands:
    def __init__(self, ctx: Context) -> None:
        self.ctx, self.store = ctx, ctx.store

    def grant(self, *, screening_id, scope, legal_basis, actor, request_id=None) -> dict:
        pairs = rules.check_pairs(inputs.pairs(scope), self.ctx.policy)
        basis = rules.check_legal_basis(inputs.code(legal_basis, "legal_basis"), self.ctx.policy)
        return self._change("granted", screening_id, actor, request_id, pairs, basis,
                            lambda current: rules.grant(current, pairs))

    def narrow(self, *, screening_id, scope, actor, request_id=None) -> dict:
        pairs = rules.check_pairs(inputs.pairs(scope), self.ctx.policy)
        return self._change("narrowed", screening_id, actor, request_id, pairs, None,
                            lambda current: rules.narrow(current, pairs))

    def withdraw(self, *, screening_id, actor, request_id=None) -> dict:
        return self._change("withdrawn", screening_id, actor, request_id, None, None, rules.withdraw)

    def _change(self, kind, screening_id, actor, request_id, pairs, basis, decide) -> dict:
        who = inputs.actor(actor)
        arguments = dict(kind=kind, screening_id=screening_id, actor=who, basis=basis,
                         pairs=None if pairs is None else codec.pairs(pairs))

        def work(session):
            now = self.ctx.now()
            doc = visible_screening(self.ctx, screening_id, session)
            current = consent_of(doc)
            after, changed = decide(current)
            state = {"scope": codec.pairs(after.scope), "version": after.version}
            if not self.store.set_if(session, SCREENINGS, doc["_id"], {"consent.version": current.version},
                                     {"consent": state}):
                raise InvalidConsent("the consent changed meanwhile; read it again", "screening_id")
            self.store.insert(session, CONSENT_LOG, {
                "_id": f"{doc['_id']}:{after.version}", "screening_id": doc["_id"], "kind": kind,
                "changed": codec.pairs(changed), "in_force": state["scope"], "legal_basis": basis, "by": who,
                "role": self.ctx.scope.role, "organisation": self.ctx.scope.acting_for, "at": at(now),
                "version": after.version})
            self.store.emit(session, events.CONSENT_EVENTS[kind], doc["_id"], events.consent_changed(
                screening_id=doc["_id"], organisation=self.ctx.scope.acting_for, recorded_by=who, at=now,
                changed=changed, in_force=after.scope, version=after.version, legal_basis=basis))
            revoked = 0
            if kind != "granted":
                # withdrawal revokes everything shared (an override included: the person said stop);
                # narrowing only what relied on the pairs taken back
                reason = "consent_withdrawn" if kind == "withdrawn" else "consent_narrowed"
                revoked = ReferralCommands(self.ctx).revoke_for(
                    session, doc["_id"], None if kind == "withdrawn" else changed, reason, now,
                    consent_only=kind == "narrowed")
            return {**views.consent({**doc, "consent": state}), "revoked": revoked}
        return self.store.run_once(f"consent_{kind}", request_id, arguments, work)
