"""Bearer tokens for tests, signed by the test session's local issuer (the key its gateways trust).

    platform.graphql(query, headers=bearer("grant_officer", "ministry"))
    platform.graphql(query, as_=("outreach_worker", "provest", "sjaelland"))

The issuer is one per test process: ``start_infrastructure`` creates it in the session's workdir and gives its
settings to every gateway; a test that signs a token before (or without) the stack gets the same issuer, created in
a temporary folder. The negative helpers build the tokens of the JWT security suite.
"""
from __future__ import annotations

import atexit
import base64
import hashlib
import hmac
import json
import shutil
import tempfile
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from deploy.local.issuer import LocalIssuer

_issuer: LocalIssuer | None = None


def issuer(directory: Path | None = None) -> LocalIssuer:
    """The test process's local issuer, created on first use (in ``directory`` when given, else a temp folder)."""
    global _issuer
    if _issuer is None:
        if directory is None:
            directory = Path(tempfile.mkdtemp(prefix="actionplan-issuer-"))
            atexit.register(shutil.rmtree, directory, True)
        _issuer = LocalIssuer(directory).ensure()
    return _issuer


def env() -> dict[str, str]:
    """OIDC_ISSUER, OIDC_AUDIENCE and OIDC_JWKS_URL for a gateway that trusts the test issuer."""
    return issuer().env()


def token(role: str, organisation: str | None = None, region: str | None = None, *, subject: str | None = None,
          **claims) -> str:
    """A valid token for ``role`` (claims may add or override any claim; a claim set to None is left out)."""
    return issuer().token(role, organisation, region, subject=subject, **claims)


def header(raw_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw_token}"}


def bearer(role: str, organisation: str | None = None, region: str | None = None, **claims) -> dict[str, str]:
    return header(token(role, organisation, region, **claims))


# -- tokens that must be refused -------------------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _unsigned(header_: dict, claims: dict) -> str:
    return f"{_b64(json.dumps(header_).encode())}.{_b64(json.dumps(claims).encode())}"


def expired(role: str = "grant_officer", organisation: str | None = "ministry") -> str:
    now = int(time.time())
    return token(role, organisation, iat=now - 7200, nbf=now - 7200, exp=now - 3600)  # far beyond any leeway


def not_yet_valid(role: str = "grant_officer", organisation: str | None = "ministry") -> str:
    now = int(time.time())
    return token(role, organisation, iat=now + 3600, nbf=now + 3600, exp=now + 7200)


def wrong_issuer(role: str = "grant_officer", organisation: str | None = "ministry") -> str:
    return token(role, organisation, iss="https://idp.example.org/realms/other")


def wrong_audience(role: str = "grant_officer", organisation: str | None = "ministry") -> str:
    return token(role, organisation, aud="another-application")


def no_audience(role: str = "grant_officer", organisation: str | None = "ministry") -> str:
    return token(role, organisation, aud=None)


def no_expiry(role: str = "grant_officer", organisation: str | None = "ministry") -> str:
    return token(role, organisation, exp=None)


def alg_none(role: str = "grant_officer", organisation: str | None = "ministry") -> str:
    claims = issuer().claims(role, organisation)
    return _unsigned({"alg": "none", "typ": "JWT", "kid": issuer().kid}, claims) + "."


def hs256_with_public_key(role: str = "grant_officer", organisation: str | None = "ministry") -> str:
    """The classic key-confusion attack: HMAC "signed" with the issuer's public key (PEM) as the secret."""
    claims = issuer().claims(role, organisation)
    signing_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": issuer().kid}, claims)
    mac = hmac.new(issuer().public_pem(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def wrong_key(role: str = "grant_officer", organisation: str | None = "ministry", *, same_kid: bool = True) -> str:
    """Signed by another key; with ``same_kid`` it claims the issuer's key id, otherwise an unknown one."""
    other = ec.generate_private_key(ec.SECP256R1())
    kid = issuer().kid if same_kid else "not-a-known-key-id"
    return jwt.encode(issuer().claims(role, organisation), other, algorithm="ES256", headers={"kid": kid})


def tampered(role: str = "applicant", organisation: str | None = "DK-CVR-20453044", **changes) -> str:
    """A valid token whose claims were edited afterwards (by default promoted to grant officer of the ministry)."""
    head, payload, signature = token(role, organisation).split(".")
    claims = json.loads(_unb64(payload))
    claims.update(changes or {"realm_access": {"roles": ["grant_officer"]}, "org": "ministry"})
    return f"{head}.{_b64(json.dumps(claims).encode())}.{signature}"


def unknown_role(organisation: str | None = "ministry") -> str:
    return token("grant_officer", organisation, realm_access={"roles": ["offline_access", "superuser"]})


def two_roles(organisation: str | None = "ministry") -> str:
    return token("grant_officer", organisation, realm_access={"roles": ["grant_officer", "dpo"]})


def internal_role(organisation: str | None = None) -> str:
    """A well-signed token claiming the outreach service's internal account: no token may carry it."""
    return token("grant_officer", organisation, realm_access={"roles": ["outreach_service"]})


def malformed() -> str:
    return "not-a-jwt"


# every token the gateway must refuse with code "unauthenticated", by name
REFUSED = {
    "expired": expired, "not_yet_valid": not_yet_valid, "wrong_issuer": wrong_issuer,
    "wrong_audience": wrong_audience, "no_audience": no_audience, "no_expiry": no_expiry, "alg_none": alg_none,
    "hs256_with_public_key": hs256_with_public_key, "wrong_key": wrong_key,
    "unknown_kid": lambda: wrong_key(same_kid=False), "tampered": tampered, "unknown_role": unknown_role,
    "two_roles": two_roles, "internal_role": internal_role, "malformed": malformed,
}
