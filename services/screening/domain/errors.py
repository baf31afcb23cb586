"""Coded refusals of the screening rules; the edge turns each into an answer with its ``code`` and ``field``.

A code never changes once published (clients and partner systems branch on it); ``field`` names the argument as
the RPC spells it (snake_case). Messages quote ids and codes only: never an answer's free text, a reason, or
anything a person said – an error message ends up in logs and traces.
"""
from __future__ import annotations

from kit.coded import CodedError


class ScreeningError(CodedError):
    code = "screening_error"


# -- instruments and answers ---------------------------------------------------------------------------------------
class UnknownInstrument(ScreeningError):
    code = "unknown_instrument"


class UnknownInstrumentVersion(ScreeningError):
    code = "unknown_instrument_version"


class InvalidInstrument(ScreeningError):
    """A data file that breaks the instrument schema or names an indicator, dimension or code it does not define:
    refused when loaded, so a bad file never scores anything."""
    code = "invalid_instrument"


class UnknownQuestion(ScreeningError):
    code = "unknown_question"


class InvalidAnswer(ScreeningError):
    code = "invalid_answer"


# -- context -------------------------------------------------------------------------------------------------------
class UnknownSector(ScreeningError):
    code = "unknown_sector"


class UnknownAgency(ScreeningError):
    code = "unknown_agency"


class InvalidContext(ScreeningError):
    code = "invalid_context"


class InvalidDate(ScreeningError):
    code = "invalid_date"


class UnknownScreening(ScreeningError):
    code = "unknown_screening"


# -- consent -------------------------------------------------------------------------------------------------------
class UnknownPurpose(ScreeningError):
    code = "unknown_purpose"


class UnknownLegalBasis(ScreeningError):
    code = "unknown_legal_basis"


class InvalidConsent(ScreeningError):
    code = "invalid_consent"


class ConsentNotGiven(ScreeningError):
    """Nothing to narrow or withdraw: no consent in force for this screening."""
    code = "consent_not_given"


class ConsentRequired(ScreeningError):
    """A referral to a recipient for a purpose the person has not consented to, and no override was made."""
    code = "consent_required"


class OverrideNotAllowed(ScreeningError):
    """The caller's role is not one the partner policy allows to share without consent."""
    code = "override_not_allowed"


class InvalidOverride(ScreeningError):
    code = "invalid_override"


# -- referrals -----------------------------------------------------------------------------------------------------
class UnknownReferral(ScreeningError):
    code = "unknown_referral"


class InvalidTransition(ScreeningError):
    """A referral moved in a way the FHIR Task states do not allow (completed before accepted, anything after
    revoked, ...)."""
    code = "invalid_transition"


class NotTheRecipient(ScreeningError):
    """A partner acting on a referral that was not sent to it (answered as unknown to the partner, never this)."""
    code = "not_the_recipient"


class PurposeNotAllowedForAgency(ScreeningError):
    """The partner policy gives this agency nothing for this purpose (immigration by default): nothing is sent."""
    code = "purpose_not_allowed_for_agency"


class InvalidDecision(ScreeningError):
    code = "invalid_decision"


class InvalidDeadlines(ScreeningError):
    code = "invalid_deadlines"


class InvalidPartnerPolicy(ScreeningError):
    code = "invalid_partner_policy"


class ScreeningNotReferable(ScreeningError):
    """A referral asked for a screening whose outcome found no indicators."""
    code = "screening_not_referable"



class ReferralExists(ScreeningError):
    """An open referral of this screening to this recipient for this purpose exists already."""
    code = "referral_exists"
