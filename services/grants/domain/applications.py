"""The application lifecycle: draft → submitted → in_assessment → awarded | rejected; awarded → active → closed.

Withdrawal: the applicant may withdraw from draft, submitted or in_assessment. Until a decision nothing is
committed, so pulling out costs the pool nothing and forcing an unwilling applicant through assessment serves no
one. After the award money is committed: ending it is a budget operation (``Ledger.withdraw``) followed by closing
the grant, so the release of funds is evented and audited in one place.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum

from .eligibility import check_eligibility
from .errors import AwardAboveRequested, GrantNotPayable, InvalidInput, TransitionNotAllowed
from .events import Clock, DomainEvent, aware, require_text
from .organisations import Directory
from .pools import Pool


class State(str, Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_ASSESSMENT = "in_assessment"
    AWARDED = "awarded"
    REJECTED = "rejected"
    ACTIVE = "active"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


ALLOWED: dict[State, frozenset[State]] = {
    State.DRAFT: frozenset({State.SUBMITTED, State.WITHDRAWN}),
    State.SUBMITTED: frozenset({State.IN_ASSESSMENT, State.WITHDRAWN}),
    State.IN_ASSESSMENT: frozenset({State.AWARDED, State.REJECTED, State.WITHDRAWN}),
    State.AWARDED: frozenset({State.ACTIVE}),
    State.ACTIVE: frozenset({State.CLOSED}),
    State.REJECTED: frozenset(),
    State.CLOSED: frozenset(),
    State.WITHDRAWN: frozenset(),
}

EVENT_TYPES: dict[State, str] = {
    State.DRAFT: "grants.application.drafted",
    State.SUBMITTED: "grants.application.submitted",
    State.IN_ASSESSMENT: "grants.application.assessment_started",
    State.AWARDED: "grants.application.awarded",
    State.REJECTED: "grants.application.rejected",
    State.ACTIVE: "grants.grant.activated",
    State.CLOSED: "grants.grant.closed",
    State.WITHDRAWN: "grants.application.withdrawn",
}

# a decision against the applicant must say why; routine steps may leave the reason empty
REASON_REQUIRED = frozenset({State.REJECTED, State.WITHDRAWN})
# the states in which a grant may be paid: awarded and not yet closed or withdrawn
PAYABLE = frozenset({State.AWARDED, State.ACTIVE})
# the states in which an application is a grant (the award was made); ``grant(id)`` answers only for these
GRANT_STATES = frozenset({State.AWARDED, State.ACTIVE, State.CLOSED})


@dataclass(frozen=True)
class Transition:
    from_state: State | None  # None for the creation of the draft
    to_state: State
    actor: str  # pseudonymous user id, never a name
    at: datetime
    reason: str


@dataclass(frozen=True)
class AssessmentNote:
    """SENSITIVE free text. The storage adapter encrypts ``text`` at application level before it is stored; it is
    never put into events, logs, exports or error messages."""
    author: str
    at: datetime
    text: str


@dataclass
class Application:
    id: str
    pool_code: str
    applicant_id: str
    knowledge_partner_id: str | None
    title: str
    description: str
    requested_ore: int
    start: date
    end: date
    state: State = State.DRAFT
    history: list[Transition] = field(default_factory=list)
    # SENSITIVE, kept apart from every other field so the adapter can encrypt the whole list
    assessment_notes: list[AssessmentNote] = field(default_factory=list)
    awarded_ore: int | None = None  # the amount of the award decision; None until awarded

    def award(self, amount_ore: int, *, actor: str, clock: Clock, reason: str = "") -> DomainEvent:
        """Decide the award. More than was applied for needs an explicit reason, recorded with the decision (the
        reason is free text like every other one: the adapter encrypts it)."""
        if State.AWARDED not in ALLOWED[self.state]:
            raise TransitionNotAllowed(f"application {self.id}: cannot go from {self.state.value} to awarded",
                                       from_state=self.state.value, to_state=State.AWARDED.value)
        if not isinstance(reason, str):
            raise InvalidInput(f"reason must be a string, got {reason!r}", field="reason")
        if amount_ore > self.requested_ore and not reason.strip():
            raise AwardAboveRequested(
                f"application {self.id}: the award of {amount_ore} øre is above the {self.requested_ore} øre "
                f"applied for; give the reason for awarding more, or award at most the amount applied for",
                field="reason", requested_ore=self.requested_ore, amount_ore=amount_ore)
        event = self.transition(State.AWARDED, actor=actor, clock=clock, reason=reason)
        self.awarded_ore = amount_ore
        return event

    def withdraw_grant(self, *, actor: str, clock: Clock, reason: str) -> DomainEvent:
        """An awarded or active grant ends with its commitment (``Ledger.withdraw``, same transaction): the grant
        then says ``withdrawn``. Only that command calls this; a plain move cannot withdraw a grant."""
        if self.state not in PAYABLE:
            raise TransitionNotAllowed(f"grant {self.id}: cannot withdraw the commitment of a {self.state.value} "
                                       f"application", from_state=self.state.value, to_state=State.WITHDRAWN.value)
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput(f"grant {self.id}: a reason is required to withdraw it", field="reason")
        at = aware(clock(), "clock")
        self.history.append(Transition(self.state, State.WITHDRAWN, require_text(actor, "actor"), at, reason))
        previous, self.state = self.state, State.WITHDRAWN
        return self._event(State.WITHDRAWN, previous, actor, at)

    def check_payable(self) -> None:
        if self.state not in PAYABLE:
            raise GrantNotPayable(f"grant {self.id} is {self.state.value}: only an awarded or active grant is paid",
                                  field="grant_id", state=self.state.value)

    def submit(self, pool: Pool, directory: Directory, *, actor: str, clock: Clock, reason: str = "") -> DomainEvent:
        # re-checked at submission: a partner may have lost its role since the draft was written
        self._check_against(pool, directory)
        return self.transition(State.SUBMITTED, actor=actor, clock=clock, reason=reason)

    def transition(self, to: State, *, actor: str, clock: Clock, reason: str = "") -> DomainEvent:
        to = State(to)
        if to not in ALLOWED[self.state]:
            raise TransitionNotAllowed(f"application {self.id}: cannot go from {self.state.value} to {to.value}",
                                       from_state=self.state.value, to_state=to.value)
        require_text(actor, "actor")
        if not isinstance(reason, str):
            raise InvalidInput(f"reason must be a string, got {reason!r}", field="reason")
        if to in REASON_REQUIRED and not reason.strip():
            raise InvalidInput(f"application {self.id}: a reason is required to go to {to.value}", field="reason")
        at = aware(clock(), "clock")
        self.history.append(Transition(self.state, to, actor, at, reason))
        previous, self.state = self.state, to
        return self._event(to, previous, actor, at)

    def add_assessment_note(self, *, author: str, text: str, clock: Clock) -> None:
        if self.state is not State.IN_ASSESSMENT:
            raise TransitionNotAllowed(f"application {self.id}: notes are taken in in_assessment, "
                                       f"not {self.state.value}", from_state=self.state.value)
        self.assessment_notes.append(AssessmentNote(require_text(author, "author"), aware(clock(), "clock"),
                                                    require_text(text, "text")))

    def time_of(self, state: State) -> datetime | None:
        return next((t.at for t in self.history if t.to_state is state), None)

    def _check_against(self, pool: Pool, directory: Directory) -> None:
        if pool.code != self.pool_code:
            raise InvalidInput(f"application {self.id} is for {self.pool_code}, not {pool.code}", field="pool")
        check_eligibility(pool, directory, applicant_id=self.applicant_id, partner_id=self.knowledge_partner_id,
                          requested_ore=self.requested_ore, start=self.start, end=self.end)

    def _event(self, to: State, previous: State | None, actor: str, at: datetime) -> DomainEvent:
        # the reason stays in the history: free text may hold personal data, and consumers do not need it
        return DomainEvent(EVENT_TYPES[to], self.id, at, {
            "applicationId": self.id, "poolCode": self.pool_code,
            "from": previous.value if previous else None, "to": to.value, "actor": actor,
        })


def draft(pool: Pool, directory: Directory, *, application_id: str, applicant_id: str,
          knowledge_partner_id: str | None, title: str, description: str, requested_ore: int, start: date,
          end: date, actor: str, clock: Clock) -> tuple[Application, DomainEvent]:
    """A new draft. It must already meet the rules: a draft that could never be submitted helps nobody."""
    application = Application(id=require_text(application_id, "application_id"), pool_code=pool.code,
                              applicant_id=applicant_id, knowledge_partner_id=knowledge_partner_id,
                              title=require_text(title, "title"), description=require_text(description, "description"),
                              requested_ore=requested_ore, start=start, end=end)
    application._check_against(pool, directory)
    require_text(actor, "actor")
    at = aware(clock(), "clock")
    application.history.append(Transition(None, State.DRAFT, actor, at, ""))
    return application, application._event(State.DRAFT, None, actor, at)
