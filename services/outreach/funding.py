"""The grants service's attribution check, asked over RPC as the outreach service's own account.

Asked before any transaction: a grant must be active to fund new work, and only the grants service knows."""
from __future__ import annotations

import logging

from kit.errors import CommandRejected
from kit.nameko_kit import service_account
from services.outreach.domain.errors import FundingCheckUnavailable, FundingInactive, FundingUnknown

log = logging.getLogger("actionplan.outreach.funding")
ACCOUNT_ROLE, ACCOUNT_SUBJECT = "outreach_service", "service:outreach"


class GrantsFunding:
    def __init__(self, settings) -> None:
        self.settings = settings

    def attribute(self, grant_id: str) -> dict:
        """The grants service's attribution of an active grant (initiative_number, fund_code, ...)."""
        from nameko.exceptions import RemoteError
        from nameko.standalone.rpc import ClusterRpcProxy
        context = service_account(self.settings, ACCOUNT_ROLE, ACCOUNT_SUBJECT, lifetime_s=60)
        try:
            with ClusterRpcProxy({"AMQP_URI": self.settings.amqp_uri}, timeout=self.settings.rpc_timeout_s,
                                 context_data=context) as rpc:
                return rpc.grants.attribute_activity(grant_id=grant_id)
        except RemoteError as exc:
            rejected = CommandRejected.parse(exc.value) if exc.exc_type == "CommandRejected" else None
            code = rejected.code if rejected else None
            if code == "unknown_grant":
                raise FundingUnknown(f"no grant {grant_id}", "funding") from None
            if code == "not_active":
                raise FundingInactive(rejected.message, "funding") from None
            log.warning("grants refused the attribution check: %s", code or exc.exc_type)
            raise FundingCheckUnavailable("the grants service could not check the funding; try again",
                                          "funding") from None
        except Exception as exc:  # broker down, grants not answering: nothing is written, the caller retries
            log.warning("attribution check failed: %s", type(exc).__name__)
            raise FundingCheckUnavailable("the grants service could not check the funding; try again",
                                          "funding") from None
