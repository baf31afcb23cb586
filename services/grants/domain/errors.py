"""Domain errors of the grants service.

Every error carries a stable machine-readable ``code``: the service layer maps errors to RPC and GraphQL errors by
code, so a code never changes once published even if the message wording does. Messages name the offending value
or field so a grant officer can correct the input without reading logs.
"""
from __future__ import annotations


class GrantsError(Exception):
    code = "grants_error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        # structured context for the adapter (never personal data: ids, states, amounts in øre)
        self.details = details

    def __str__(self) -> str:
        return self.message


class InvalidInput(GrantsError):
    code = "invalid_input"


class InvalidAmount(GrantsError):
    code = "invalid_amount"


class FloatAmount(InvalidAmount):
    # separate code: a float reaching the domain is a programming error upstream, not a typo by a user
    code = "float_amount"


class FractionalOre(InvalidAmount):
    code = "fractional_ore"


class InvalidCvr(GrantsError):
    code = "invalid_cvr"


class UnknownOrganisation(GrantsError):
    code = "unknown_organisation"


class KnowledgeInstitutionRequired(GrantsError):
    code = "knowledge_institution_required"


class RecipientNotEarmarked(GrantsError):
    code = "recipient_not_earmarked"


class UnknownPool(GrantsError):
    code = "unknown_pool"


class NotAGrantPool(GrantsError):
    code = "not_a_grant_pool"


class InvalidPeriod(GrantsError):
    code = "invalid_period"


class OutsidePeriod(GrantsError):
    code = "outside_period"


class TransitionNotAllowed(GrantsError):
    code = "transition_not_allowed"


class BudgetExceeded(GrantsError):
    code = "budget_exceeded"


class BudgetNotSet(GrantsError):
    code = "budget_not_set"


class BudgetLocked(GrantsError):
    code = "budget_locked"


class FinanceCommitteeApprovalRequired(GrantsError):
    code = "finance_committee_approval_required"


class DisbursementExceedsCommitment(GrantsError):
    code = "disbursement_exceeds_commitment"


class InsufficientCommitment(GrantsError):
    code = "insufficient_commitment"


class GrantAlreadyCommitted(GrantsError):
    code = "grant_already_committed"


class CommitmentWithdrawn(GrantsError):
    code = "commitment_withdrawn"


class PoolMismatch(GrantsError):
    code = "pool_mismatch"


class UnknownApplication(InvalidInput):
    code = "unknown_application"


class UnknownGrant(GrantsError):
    code = "unknown_grant"


class NotActive(GrantsError):
    code = "not_active"


class UnknownObligation(GrantsError):
    code = "unknown_obligation"


class OrganisationExists(GrantsError):
    # registering is for new organisations only; a change goes through change_organisation (versioned, with history)
    code = "organisation_exists"


class RoleInUse(GrantsError):
    code = "role_in_use"


class StaleVersion(GrantsError):
    code = "stale_version"


class AwardAboveRequested(GrantsError):
    code = "award_above_requested"


class DisbursementDateNotAllowed(GrantsError):
    code = "disbursement_date_not_allowed"


class GrantNotPayable(GrantsError):
    code = "grant_not_payable"
