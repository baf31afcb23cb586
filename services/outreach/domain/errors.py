"""Coded refusals of the outreach rules; the edge turns each into an answer with its ``code`` and ``field``.

A code never changes once published (clients branch on it); ``field`` names the argument as the RPC spells it
(snake_case), so a form can point at the box to correct. Messages quote ids and codes only: never a venue's label
or address, a note, a follow-up code, or any text a user typed – an error message ends up in logs and traces.
"""
from __future__ import annotations

from kit.coded import CodedError


class OutreachError(CodedError):
    code = "outreach_error"


class UnknownVenue(OutreachError):
    code = "unknown_venue"


class UnknownVisit(OutreachError):
    code = "unknown_visit"


class UnknownTask(OutreachError):
    code = "unknown_task"


class UnknownTeam(OutreachError):
    code = "unknown_team"


class UnknownCluster(OutreachError):
    code = "unknown_cluster"


class UnknownMunicipality(OutreachError):
    code = "unknown_municipality"


class UnknownRegion(OutreachError):
    code = "unknown_region"


class UnknownCode(OutreachError):
    code = "unknown_code"


class OutsideRegion(OutreachError):
    """A team or caller limited to one region acting on or at a venue elsewhere (Pro Vest outside Region Zealand)."""
    code = "outside_region"


class NotYourTeam(OutreachError):
    code = "team_not_yours"


class InvalidVenue(OutreachError):
    code = "invalid_venue"


class FundingUnknown(OutreachError):
    code = "funding_unknown"


class FundingInactive(OutreachError):
    code = "funding_inactive"


class FundingNotForOutreach(OutreachError):
    code = "funding_not_for_outreach"


class FundingNotYours(OutreachError):
    code = "funding_not_yours"


class FundingCheckUnavailable(OutreachError):
    # the grants service did not answer: nothing is written, the caller may retry
    code = "funding_check_unavailable"


class UnknownFollowUp(OutreachError):
    code = "unknown_follow_up"


class InvalidFollowUpCode(OutreachError):
    code = "invalid_follow_up_code"


class InvalidConsent(OutreachError):
    code = "invalid_consent"


class ConsentWithdrawn(OutreachError):
    code = "consent_withdrawn"


class InvalidVisit(OutreachError):
    code = "invalid_visit"


class InvalidDate(OutreachError):
    code = "invalid_date"


class InvalidSignal(OutreachError):
    code = "invalid_signal"


class InvalidAttempt(OutreachError):
    code = "invalid_attempt"


class InvalidFlag(OutreachError):
    # an ad triage event outreach cannot use (a contract breach upstream, not a user's input)
    code = "invalid_flag"


class TaskClosed(OutreachError):
    code = "task_closed"



class RulesError(ValueError):
    """A concern rule-set file is missing, malformed or inconsistent: a deployment fault, not a user's."""
