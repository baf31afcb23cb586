"""Direct RPC from tests, acting as a role: every service refuses a request without a principal sealed with
PRINCIPAL_KEY (kit.nameko_kit), so tests seal one the way the gateway and the operators' tools do.

    with rpc_as(platform, "operator") as rpc:
        rpc.ad_triage.linking()
    with rpc_as(platform, "grant_officer", "ministry", timeout=60) as rpc:
        rpc.grants.applications()
"""
from __future__ import annotations

import base64
import time

from kit.principal import HEADER, Principal, seal

LIFETIME_S = 3600.0  # a test's proxy may be used for minutes; the seal outlives it


def principal_key(platform) -> bytes:
    return base64.b64decode(platform.env["PRINCIPAL_KEY"])


def sealed(platform, role: str, organisation: str | None = None, region: str | None = None, *,
           subject: str | None = None, expires_at: float | None = None, key: bytes | None = None) -> str:
    principal = Principal(subject or f"test-{role}", role, organisation, region)
    return seal(principal, key or principal_key(platform), time.time() + LIFETIME_S if expires_at is None
                else expires_at)


def context(platform, role: str, organisation: str | None = None, region: str | None = None, **options) -> dict:
    """nameko context data carrying the sealed principal (``ClusterRpcProxy(config, context_data=...)``)."""
    return {HEADER: sealed(platform, role, organisation, region, **options)}


def rpc_as(platform, role: str, organisation: str | None = None, region: str | None = None, *,
           timeout: float = 20, **options):
    """A ClusterRpcProxy (use it as a context manager) whose every call carries this principal."""
    from nameko.standalone.rpc import ClusterRpcProxy
    return ClusterRpcProxy({"AMQP_URI": platform.env["AMQP_URI"], "serializer": "json"},
                           context_data=context(platform, role, organisation, region, **options), timeout=timeout)
