"""The JWT negative cases and the sealed principal: every forged, expired or misdirected token is refused with a
code and a message that never repeats the token; a principal on RPC cannot be forged, replayed late or edited.

The Authenticator cases run without the stack (the test issuer's JWKS is a local file); the last tests send the same
tokens through a running gateway."""
from __future__ import annotations

import base64
import json
import time
import urllib.request
import uuid

import pytest

from gateway.auth import AuthError, Authenticator
from kit.principal import ANONYMOUS, Principal, PrincipalRejected, seal, unseal
from kit.settings import load
from tests.support import tokens
from tests.support.platform import PRINCIPAL_KEY

KEY = base64.b64decode(PRINCIPAL_KEY)
ROLE_PROBLEMS = {"unknown_role", "two_roles", "internal_role"}  # valid tokens without exactly one platform role: forbidden


def expected_code(case: str) -> str:
    return "forbidden" if case in ROLE_PROBLEMS else "unauthenticated"


def leaks(token: str, text: str) -> bool:
    """True when ``text`` repeats the token or any of its parts (header, claims, signature)."""
    return token in text or any(len(part) >= 8 and part in text for part in token.split("."))


@pytest.fixture(scope="module")
def auth():
    return Authenticator(load("gateway", {"PRINCIPAL_KEY": PRINCIPAL_KEY, **tokens.env()}))


def verify(auth, authorization):
    import asyncio
    return asyncio.run(auth.principal(authorization))


# -- the gateway's verification ------------------------------------------------------------------------------------
def test_a_valid_token_gives_the_right_principal(auth):
    assert verify(auth, tokens.bearer("grant_officer", "ministry")["Authorization"]) == \
        Principal("local:grant_officer:ministry", "grant_officer", "ministry")
    assert verify(auth, tokens.bearer("outreach_worker", "provest", "sjaelland")["Authorization"]) == \
        Principal("local:outreach_worker:provest", "outreach_worker", "provest", "sjaelland")


def test_a_missing_token_is_the_anonymous_principal(auth):
    assert verify(auth, None) is ANONYMOUS


@pytest.mark.parametrize("case", sorted(tokens.REFUSED))
def test_each_bad_token_is_refused_without_repeating_it(auth, case):
    token = tokens.REFUSED[case]()
    with pytest.raises(AuthError) as refused:
        verify(auth, f"Bearer {token}")
    assert refused.value.code == expected_code(case), refused.value.message
    assert not leaks(token, str(refused.value))


def test_leeway_accepts_a_small_clock_skew_only(auth):
    now = int(time.time())
    assert verify(auth, f"Bearer {tokens.token('dpo', 'ministry', exp=now - 10)}").role == "dpo"
    assert verify(auth, f"Bearer {tokens.token('dpo', 'ministry', nbf=now + 10, iat=now + 10)}").role == "dpo"
    with pytest.raises(AuthError, match="expired"):
        verify(auth, f"Bearer {tokens.token('dpo', 'ministry', exp=now - 60)}")
    with pytest.raises(AuthError, match="not valid yet"):
        verify(auth, f"Bearer {tokens.token('dpo', 'ministry', nbf=now + 60)}")


def test_another_organisations_token_cannot_be_turned_into_ours(auth):
    """The organisation comes from the signed claims only: editing it breaks the signature."""
    theirs = tokens.token("applicant", "DK-CVR-20453044")
    assert verify(auth, f"Bearer {theirs}").organisation == "DK-CVR-20453044"
    with pytest.raises(AuthError) as refused:
        verify(auth, f"Bearer {tokens.tampered('applicant', 'DK-CVR-20453044', org='DK-CVR-11111111')}")
    assert refused.value.code == "unauthenticated"


def test_a_huge_token_is_refused_before_parsing(auth):
    with pytest.raises(AuthError) as refused:
        verify(auth, "Bearer " + "a" * 100_000)
    assert refused.value.code == "unauthenticated"


# -- the principal sealed on RPC -----------------------------------------------------------------------------------
OFFICER = Principal("local:grant_officer:ministry", "grant_officer", "ministry")


def _parts(sealed: str):
    version, payload, mac = sealed.split(".")
    return version, json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))), mac


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_sealed_principal_round_trips():
    assert unseal(seal(OFFICER, KEY, time.time() + 10), KEY) == OFFICER


def test_a_principal_sealed_with_another_key_is_refused():
    with pytest.raises(PrincipalRejected) as refused:
        unseal(seal(OFFICER, b"another key that is 32 bytes long", time.time() + 10), KEY)
    assert refused.value.code == "unauthenticated"


def test_an_expired_principal_is_refused():
    sealed = seal(OFFICER, KEY, time.time() - 5)
    with pytest.raises(PrincipalRejected, match="expired") as refused:
        unseal(sealed, KEY)
    assert refused.value.code == "unauthenticated"


@pytest.mark.parametrize("edit", [{"role": "dpo"}, {"organisation": "cmm"}, {"region": "sjaelland"},
                                  {"exp": 9_999_999_999}])
def test_an_edited_principal_is_refused(edit):
    version, payload, mac = _parts(seal(OFFICER, KEY, time.time() + 10))
    forged = f"{version}.{_b64({**payload, **edit})}.{mac}"
    with pytest.raises(PrincipalRejected, match="integrity") as refused:
        unseal(forged, KEY)
    assert refused.value.code == "unauthenticated"


@pytest.mark.parametrize("sealed", [None, "", "v1", "v1.x.y", "v2.a.b", "v1..", 42, {"role": "dpo"}, "a" * 10_000])
def test_a_missing_or_malformed_principal_is_refused(sealed):
    with pytest.raises(PrincipalRejected) as refused:
        unseal(sealed, KEY)
    assert refused.value.code == "unauthenticated"


def test_a_well_sealed_but_nonsensical_principal_is_refused():
    import hashlib
    import hmac
    payload = _b64({"subject": "has spaces", "role": "dpo", "organisation": None, "region": None,
                    "exp": time.time() + 10})
    mac = base64.urlsafe_b64encode(hmac.new(KEY, f"v1.{payload}".encode(), hashlib.sha256).digest())
    with pytest.raises(PrincipalRejected, match="malformed"):
        unseal(f"v1.{payload}.{mac.rstrip(b'=').decode()}", KEY)


# -- through a running gateway -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gateway(infra):
    from tests.support.platform import Platform
    platform = Platform(infra, f"jwt{uuid.uuid4().hex[:8]}", None)
    try:
        platform.gateway()
        yield platform
    finally:
        platform.stop()


def post(platform, token: str | None):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"http://127.0.0.1:{platform.gateway_port}/graphql",
                                     json.dumps({"query": "{ __typename }"}).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.stack
@pytest.mark.parametrize("case", sorted(tokens.REFUSED))
def test_the_gateway_refuses_each_bad_token_with_its_code(gateway, case):
    token = tokens.REFUSED[case]()
    status, body = post(gateway, token)
    assert status in (401, 403), (status, body)
    codes = {e.get("extensions", {}).get("code") for e in json.loads(body).get("errors", [])}
    assert codes == {expected_code(case)}, body
    assert not leaks(token, body)
    log = (gateway.stack.workdir / "logs" / "gateway.log").read_text(errors="replace")
    assert not leaks(token, log)


@pytest.mark.stack
def test_the_gateway_accepts_a_valid_token_and_no_token(gateway):
    assert post(gateway, tokens.token("grant_officer", "ministry"))[0] == 200
    assert post(gateway, None)[0] == 200
