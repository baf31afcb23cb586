"""Coded errors of the ad-triage service.

Every error carries a stable ``code`` and the ``field`` it concerns: the service edge turns any error with a code into
a CommandRejected the gateway maps to a GraphQL error. Messages quote ids and versions, never a record or contact.
Parsing problems of incoming records are not errors here: they become quarantine rows (records.RecordRejected).
"""
from __future__ import annotations


class AdTriageError(ValueError):
    code = "ad_triage_error"
    field: str | None = None

    def __init_subclass__(cls, code: str = "", field: str | None = None, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.code, cls.field = code or cls.code, field or cls.field

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownAd(AdTriageError, code="unknown_ad", field="ad_key"):
    """No stored ad has this key."""


class UnknownCluster(AdTriageError, code="unknown_cluster", field="cluster_id"):
    """No cluster has this id (a merge may have absorbed it)."""


class ConcurrentChange(AdTriageError, code="concurrent_change", field="ad_key"):
    """Someone moved the queue item after it was read: reload and decide again."""


class IllegalTransition(AdTriageError, code="illegal_transition", field="to_state"):
    """The queue move is not allowed from the item's state (or lacks its actor, reason or time)."""

    def __init__(self, from_state: str, to_state: str, reason: str = "not an allowed transition") -> None:
        super().__init__(f"cannot move queue item from {from_state!r} to {to_state!r}: {reason}")
        self.from_state, self.to_state = from_state, to_state


class UnknownRuleSet(AdTriageError, code="unknown_ruleset", field="version"):
    """No rule-set file has this version."""

    def __init__(self, version: object, available: list[str]) -> None:
        super().__init__(f"no rule set of that version; available: {', '.join(available)}")


class RuleSetNotActive(AdTriageError, code="ruleset_not_active", field="version"):
    """A rescore names a version other than the active one (publishing it is the way to switch)."""


class UnknownQuarantined(AdTriageError, code="unknown_quarantined", field="quarantine_id"):
    """No quarantined record has this id."""


class AlreadyResubmitted(AdTriageError, code="already_resubmitted", field="quarantine_id"):
    """The quarantined record was already accepted; its ad is named in the message."""
