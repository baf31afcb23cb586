"""Who is calling: the principal the gateway authenticated, and its integrity-protected form on RPC.

The gateway turns a verified bearer token into a ``Principal`` and seals it into nameko's context data under
``HEADER`` (sent as the AMQP header ``nameko.principal``) with the request's deadline as its expiry. Every service
unseals it before it reads or changes data, so a process that reaches RabbitMQ directly cannot claim an identity
without ``PRINCIPAL_KEY``.

Sealed form: ``v1.<base64url canonical JSON>.<base64url HMAC-SHA256>``; the MAC covers the version and the JSON of
the principal and the expiry (epoch seconds). No framework here: stdlib only.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import time
from dataclasses import dataclass

HEADER = "principal"  # nameko context-data key; nameko sends it as the AMQP header "nameko.principal"
SUBJECT = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_VERSION = "v1"
_MAX_SEALED = 4096
# a sealed principal is accepted this long past its expiry, for clock skew between hosts (as request deadlines)
CLOCK_TOLERANCE_S = 1.0


class PrincipalRejected(Exception):
    """A sealed principal is missing, malformed, forged or expired. ``code`` is ``unauthenticated``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Principal:
    subject: str  # pseudonymous id, SUBJECT pattern
    role: str  # a role id of the policy file, or "anonymous"
    organisation: str | None  # e.g. "ministry", "cmm", "provest", "DK-CVR-20453044", "police"
    region: str | None = None  # e.g. "sjaelland"

    def __post_init__(self) -> None:
        if not isinstance(self.subject, str) or not SUBJECT.match(self.subject):
            raise ValueError("principal subject must match " + SUBJECT.pattern)
        if not isinstance(self.role, str) or not self.role:
            raise ValueError("principal role must be a non-empty string")
        for name in ("organisation", "region"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value or len(value) > 128):
                raise ValueError(f"principal {name} must be a non-empty string of at most 128 characters or None")

    @property
    def anonymous(self) -> bool:
        return self.role == "anonymous"

    def as_dict(self) -> dict:
        return {"subject": self.subject, "role": self.role, "organisation": self.organisation, "region": self.region}


ANONYMOUS = Principal("anonymous", "anonymous", None)
GATEWAY = Principal("gateway", "gateway", None)  # the gateway's own calls (readiness probe -> health)

# Role ids a token may carry (the policy file's roles, people and service accounts). The gateway's Authenticator
# accepts a token only when exactly one of its role claims is one of these; pass ``roles=`` to use another list.
ROLES = frozenset({"grant_officer", "applicant", "outreach_worker", "caseworker", "screener", "evaluator",
                   "partner_agency", "dpo", "operator", "ingest_connector"})


def subject_of(sub: object, key: bytes) -> str:
    """A pseudonymous subject id from a token's ``sub``: kept when it already fits SUBJECT, else a keyed hash."""
    raw = "" if sub is None else str(sub)
    if SUBJECT.match(raw):
        return raw
    return "h:" + hmac.new(key, b"subject\x00" + raw.encode(), hashlib.sha256).hexdigest()[:40]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> bytes:
    return hmac.new(key, f"{_VERSION}.{payload}".encode("ascii"), hashlib.sha256).digest()


def _canonical(principal: Principal, expires_at: float) -> bytes:
    return json.dumps({**principal.as_dict(), "exp": round(float(expires_at), 3)}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=True).encode("ascii")


def seal(principal: Principal, key: bytes, expires_at: float) -> str:
    """The principal with its expiry (epoch seconds), MAC'd with ``key`` (PRINCIPAL_KEY)."""
    if not isinstance(principal, Principal):
        raise TypeError("seal() needs a Principal")
    if len(key) < 32:
        raise ValueError("the principal key must be at least 32 bytes")
    if not math.isfinite(float(expires_at)):
        raise ValueError("expires_at must be a finite epoch time")
    payload = _b64(_canonical(principal, expires_at))
    return f"{_VERSION}.{payload}.{_b64(_mac(key, payload))}"


def unseal(token: object, key: bytes, now: float | None = None) -> Principal:
    """The principal sealed in ``token``; raises PrincipalRejected("unauthenticated", …) when it is missing,
    malformed, sealed with another key, edited, or expired. The message never repeats the token."""
    if token is None or token == "":
        raise PrincipalRejected("unauthenticated", "no principal came with the request")
    if not isinstance(token, str) or len(token) > _MAX_SEALED:
        raise PrincipalRejected("unauthenticated", "the request's principal is malformed")
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != _VERSION:
        raise PrincipalRejected("unauthenticated", "the request's principal is malformed")
    _, payload, mac = parts
    try:
        given = _unb64(mac)
    except (binascii.Error, ValueError):
        raise PrincipalRejected("unauthenticated", "the request's principal is malformed") from None
    if not hmac.compare_digest(given, _mac(key, payload)):
        raise PrincipalRejected("unauthenticated", "the request's principal failed its integrity check")
    try:
        data = json.loads(_unb64(payload))
        expires_at = float(data.pop("exp"))
        principal = Principal(**data)
    except (binascii.Error, ValueError, TypeError, KeyError, AttributeError):
        raise PrincipalRejected("unauthenticated", "the request's principal is malformed") from None
    if not math.isfinite(expires_at) or (time.time() if now is None else now) > expires_at + CLOCK_TOLERANCE_S:
        raise PrincipalRejected("unauthenticated", "the request's principal has expired")
    return principal


# -- identity settings parsers (used by kit.settings) --------------------------------------------------------------
# Asymmetric algorithms only: "none" and every HMAC algorithm are refused, so a token "signed" with the issuer's
# public key as an HMAC secret can never verify.
ALLOWED_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
                                "EdDSA"})


def parse_algorithms(raw: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in raw.split(",") if part.strip())
    refused = [name for name in names if name not in ALLOWED_ALGORITHMS]
    if not names or refused:
        raise ValueError(f"must be a comma-separated list of {', '.join(sorted(ALLOWED_ALGORITHMS))} "
                         f"(never none or HS*), got {raw!r}")
    return names


def parse_issuer(raw: str) -> str:
    """An issuer identifier: an http(s) URL (OIDC discovery works from it) or a URN (the local issuer)."""
    if re.match(r"^https?://[^/\s]+(/\S*)?$", raw) or re.match(r"^urn:[A-Za-z0-9][A-Za-z0-9.:_-]*$", raw):
        return raw  # compared with the token's iss exactly, as OIDC requires
    raise ValueError(f"expected an http(s) URL or a urn:, got {raw!r}")


def parse_jwks_url(raw: str) -> str:
    if re.match(r"^https?://[^/\s]+(/\S*)?$", raw) or re.match(r"^file:///\S+$", raw):
        return raw
    raise ValueError(f"expected an http(s) URL or a file:/// URL, got {raw!r}")


def parse_leeway(raw: str) -> float:
    value = float(raw)
    if not 0 <= value <= 300:
        raise ValueError(f"must be between 0 and 300 seconds, got {raw!r}")
    return value


def parse_claim_path(raw: str) -> tuple[str, ...]:
    parts = tuple(raw.split("."))
    if not all(re.match(r"^[A-Za-z0-9_:-]{1,64}$", part) for part in parts):
        raise ValueError(f"expected a claim name or a dotted path such as realm_access.roles, got {raw!r}")
    return parts
