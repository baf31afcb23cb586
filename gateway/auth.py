"""Authentication: an OpenID Connect bearer token (a JWT) becomes the caller's ``Principal``.

The token is verified with PyJWT against the issuer's JWKS: an allow-list of asymmetric algorithms (OIDC_ALGORITHMS;
``none`` and every HS* are refused before any key is looked at, so an HMAC "signed" with the public key never
verifies), the key named by ``kid``, ``iss`` (exactly OIDC_ISSUER), ``aud`` (OIDC_AUDIENCE), ``exp`` and ``nbf``
with OIDC_LEEWAY_SECONDS of leeway, and the required claims ``iss``, ``aud``, ``exp``, ``sub``.

The JWKS comes from OIDC_JWKS_URL (http(s) or, for the local issuer, file://) or from the issuer's discovery document.
It is cached for OIDC_JWKS_CACHE_SECONDS; a ``kid`` not in the cache refreshes it once, at most every
OIDC_JWKS_MIN_REFRESH_SECONDS. Fetches run in a worker thread, never on the event loop.

Claims -> Principal: exactly one entry of the role claim (OIDC_ROLE_CLAIM, Keycloak's ``realm_access.roles``) must be
a role of the policy file (policy/access.toml; never ``anonymous`` or ``gateway``); ``org`` and ``region`` give the
organisation and region; ``sub`` the pseudonymous subject (kept when it is a plain id, else a keyed hash).

Error codes (``AuthError.code``): ``unauthenticated`` (no valid token: malformed, bad signature, expired, wrong
issuer or audience, disallowed algorithm, unknown key, missing claim), ``forbidden`` (a valid token that carries no
platform role, or more than one), ``service_unavailable`` (the issuer's keys could not be loaded). Messages say what
is wrong and never repeat the token or its claims' values.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import urllib.request
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import unquote, urlparse

import anyio
import jwt

from kit.principal import ANONYMOUS, Principal, subject_of
from kit.settings import Settings, SettingsError

log = logging.getLogger("actionplan.gateway.auth")

MAX_TOKEN_BYTES = 16 * 1024
MAX_DOCUMENT_BYTES = 1024 * 1024
FETCH_TIMEOUT_S = 5.0
REQUIRED_CLAIMS = ("iss", "aud", "exp", "sub")
_SCOPE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")  # organisation and region ids
# never taken from a token: who calls without one, and the accounts of the platform's own processes (the gateway's
# readiness probe, the outreach service's funding checks), which exist only inside it
_NOT_PLATFORM_ROLES = {"anonymous", "gateway", "outreach_service"}


class AuthError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _unauthenticated(message: str) -> AuthError:
    return AuthError("unauthenticated", message)


def read_document(url: str) -> dict:
    """GET a JSON document (http(s) or file://); blocking, so callers run it in a thread."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        raw = Path(unquote(parsed.path)).read_bytes()[:MAX_DOCUMENT_BYTES + 1]
    elif parsed.scheme in ("http", "https"):
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_S) as response:
            raw = response.read(MAX_DOCUMENT_BYTES + 1)
    else:
        raise ValueError(f"cannot fetch a {parsed.scheme!r} URL")
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise ValueError("the document is larger than 1 MB")
    document = json.loads(raw)
    if not isinstance(document, dict):
        raise ValueError("the document is not a JSON object")
    return document


def parse_jwks(document: dict, algorithms: Iterable[str]) -> dict[str | None, tuple[jwt.PyJWK, str | None]]:
    """kid -> (key, the algorithm the JWK declares or None) for every usable signing key; encryption keys,
    symmetric keys and keys declared for an algorithm outside the allow-list are left out."""
    keys: dict[str | None, tuple[jwt.PyJWK, str | None]] = {}
    for entry in document.get("keys") or ():
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig" or entry.get("kty") == "oct":
            continue
        if entry.get("alg") is not None and entry["alg"] not in algorithms:
            continue
        try:
            keys[entry.get("kid")] = (jwt.PyJWK(entry), entry.get("alg"))
        except (jwt.PyJWTError, ValueError, TypeError):
            continue  # a key type PyJWT cannot use here
    return keys


def token_roles() -> frozenset[str]:
    """The roles a token may carry: the policy file's people and service accounts (not anonymous, not the internal accounts)."""
    from kit.policy import policy
    return frozenset(role.id for role in policy().roles.values() if role.kind != "anonymous") - _NOT_PLATFORM_ROLES


class Authenticator:
    """Turns an ``Authorization`` header into a Principal; build one per gateway process from its settings."""

    def __init__(self, settings: Settings, roles: Iterable[str] | None = None, *,
                 fetch: Callable[[str], dict] = read_document, clock: Callable[[], float] = time.time) -> None:
        self.issuer = settings.require("oidc_issuer")
        self._subject_key = settings.require("principal_key")
        self.audience = settings.oidc_audience
        self.algorithms = tuple(settings.oidc_algorithms)
        self.leeway = settings.oidc_leeway_s
        self.role_claim = tuple(settings.oidc_role_claim)
        self.cache_s = settings.oidc_jwks_cache_s
        self.refresh_s = settings.oidc_jwks_refresh_s
        self.roles = frozenset(token_roles() if roles is None else roles) - _NOT_PLATFORM_ROLES
        self._jwks_url = settings.oidc_jwks_url
        if self._jwks_url is None and not self.issuer.startswith(("https://", "http://")):
            raise SettingsError(f"{settings.service}: OIDC_JWKS_URL is required when OIDC_ISSUER is not an http(s) "
                                "URL (no discovery document to find the keys from)")
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str | None, tuple[jwt.PyJWK, str | None]] = {}
        self._fetched_at: float | None = None
        self._last_fetch_try = float("-inf")
        self._lock: asyncio.Lock | None = None

    # -- the interface ------------------------------------------------------------------------------------------
    async def principal(self, authorization: str | None) -> Principal:
        """No header: ANONYMOUS. Otherwise it must be ``Bearer <valid token>``, or AuthError is raised."""
        if authorization is None or authorization.strip() == "":
            return ANONYMOUS
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthenticated("the Authorization header must be 'Bearer <token>'")
        return await self.verify(token.strip())

    async def verify(self, token: str) -> Principal:
        """The principal of a bare token (e.g. from a WebSocket ``connection_init`` payload)."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_BYTES:
            raise _unauthenticated("the bearer token is missing, malformed or too long")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _unauthenticated("the bearer token is not a well-formed JWT") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise _unauthenticated(f"the token's signature algorithm is not accepted (allowed: "
                                   f"{', '.join(self.algorithms)})")
        key, declared = await self._key_for(header.get("kid"))
        if declared is not None and declared != alg:
            raise _unauthenticated("the token's algorithm does not match its signing key")
        claims = self._decode(token, key, alg)
        return self._principal_of(claims)

    # -- verification -------------------------------------------------------------------------------------------
    def _decode(self, token: str, key: jwt.PyJWK, alg: str) -> dict:
        try:
            return jwt.decode(token, key.key, algorithms=[alg], audience=self.audience, issuer=self.issuer,
                              leeway=self.leeway,
                              options={"require": list(REQUIRED_CLAIMS), "verify_signature": True,
                                       "verify_exp": True, "verify_nbf": True, "verify_iat": True,
                                       "verify_aud": True, "verify_iss": True})
        except jwt.ExpiredSignatureError:
            raise _unauthenticated("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise _unauthenticated("the token is not valid yet (nbf or iat in the future)") from None
        except jwt.MissingRequiredClaimError as exc:
            raise _unauthenticated(f"the token lacks the required claim {exc.claim!r}") from None
        except jwt.InvalidIssuerError:
            raise _unauthenticated("the token was issued by another issuer") from None
        except jwt.InvalidAudienceError:
            raise _unauthenticated("the token is meant for another audience") from None
        except jwt.InvalidSignatureError:
            raise _unauthenticated("the token's signature does not verify") from None
        except jwt.DecodeError:
            raise _unauthenticated("the bearer token is not a well-formed JWT") from None
        except (jwt.PyJWTError, ValueError, TypeError):
            raise _unauthenticated("the token is invalid") from None

    def _principal_of(self, claims: dict) -> Principal:
        found = claims
        for part in self.role_claim:
            found = found.get(part) if isinstance(found, dict) else None
        granted = [found] if isinstance(found, str) else found if isinstance(found, list) else []
        roles = sorted({role for role in granted if isinstance(role, str) and role in self.roles})
        if not roles:
            raise AuthError("forbidden", f"the token carries no role of this platform (in the "
                                         f"{'.'.join(self.role_claim)} claim)")
        if len(roles) > 1:
            raise AuthError("forbidden", f"the token carries more than one platform role ({', '.join(roles)}); "
                                         "an account must hold exactly one")
        return Principal(subject=subject_of(claims.get("sub"), self._subject_key), role=roles[0],
                         organisation=_scope(claims, "org"), region=_scope(claims, "region"))

    # -- keys ---------------------------------------------------------------------------------------------------
    async def _key_for(self, kid: object) -> tuple[jwt.PyJWK, str | None]:
        if kid is not None and not isinstance(kid, str):
            raise _unauthenticated("the token's key id is malformed")
        stale = self._fetched_at is None or self._clock() - self._fetched_at > self.cache_s
        if stale and self._may_fetch():
            await self._refresh()
        key = self._lookup(kid)
        if key is None and self._may_fetch():
            await self._refresh()  # an unknown kid: the issuer may have rotated its keys
            key = self._lookup(kid)
        if key is None:
            if self._fetched_at is None:
                raise AuthError("service_unavailable", "the identity provider's signing keys could not be "
                                                       "loaded; try again later")
            raise _unauthenticated("the token was signed with a key the issuer does not publish")
        return key

    def _may_fetch(self) -> bool:
        """Fetches are rate-limited; until keys were loaded once, a failed fetch is retried after a second."""
        interval = self.refresh_s if self._fetched_at is not None else min(1.0, self.refresh_s)
        return self._clock() - self._last_fetch_try >= interval

    def _lookup(self, kid: str | None) -> tuple[jwt.PyJWK, str | None] | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        tried = self._last_fetch_try
        async with self._lock:
            if self._last_fetch_try != tried:  # another request fetched while this one waited
                return
            self._last_fetch_try = self._clock()
            try:
                keys = await anyio.to_thread.run_sync(self._load_keys)
            except Exception as exc:  # keep serving with the keys already known
                log.warning("could not load the identity provider's JWKS: %s", type(exc).__name__)
                return
            self._keys, self._fetched_at = keys, self._clock()
            log.info("loaded %d signing key(s) from the identity provider", len(keys))

    def _load_keys(self) -> dict[str | None, tuple[jwt.PyJWK, str | None]]:
        url = self._jwks_url
        if url is None:
            discovery = self._fetch(f"{self.issuer}/.well-known/openid-configuration")
            if discovery.get("issuer") != self.issuer:
                raise ValueError("the discovery document names another issuer")
            url = discovery.get("jwks_uri")
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                raise ValueError("the discovery document has no http(s) jwks_uri")
            self._jwks_url = url
        return parse_jwks(self._fetch(url), self.algorithms)


def _scope(claims: dict, name: str) -> str | None:
    value = claims.get(name)
    if isinstance(value, list) and len(value) == 1:  # a multivalued user attribute with one value
        value = value[0]
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _SCOPE.match(value):
        raise _unauthenticated(f"the token's {name!r} claim is malformed")
    return value
