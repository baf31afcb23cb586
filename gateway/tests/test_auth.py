"""The gateway's Authenticator without the stack: JWKS from a local file and from a loopback OIDC provider
(discovery, key rotation, rate-limited refresh, outages), claims -> Principal, and the principal sealed into RPC."""
from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from deploy.local.issuer import LocalIssuer
from gateway import rpc as gateway_rpc
from gateway.auth import AuthError, Authenticator
from gateway.rpc import RpcPool
from kit.principal import ANONYMOUS, GATEWAY, HEADER, Principal, unseal
from kit.settings import SettingsError, load
from tests.support import tokens
from tests.support.platform import PRINCIPAL_KEY

KEY = base64.b64decode(PRINCIPAL_KEY)


def settings(**env):
    return load("gateway", {"PRINCIPAL_KEY": PRINCIPAL_KEY, **env})


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def auth():
    return Authenticator(settings(**tokens.env()))


# -- a verified token becomes the principal -----------------------------------------------------------------------
def test_a_valid_token_gives_its_principal(auth):
    principal = run(auth.principal(tokens.bearer("outreach_worker", "provest", "sjaelland")["Authorization"]))
    assert principal == Principal("local:outreach_worker:provest", "outreach_worker", "provest", "sjaelland")
    assert run(auth.principal("bearer " + tokens.token("grant_officer", "ministry"))).role == "grant_officer"


def test_no_header_is_anonymous(auth):
    assert run(auth.principal(None)) is ANONYMOUS
    assert run(auth.principal("")) is ANONYMOUS


@pytest.mark.parametrize("header", ["Basic dXNlcjpwdw==", "Bearer", "Bearer    ", "token-without-scheme"])
def test_other_schemes_are_refused(auth, header):
    with pytest.raises(AuthError) as refused:
        run(auth.principal(header))
    assert refused.value.code == "unauthenticated"


def test_a_subject_that_is_not_a_plain_id_is_replaced_by_a_keyed_hash(auth):
    principal = run(auth.verify(tokens.token("dpo", "ministry", subject="Jens Hansen <jens@example.dk>")))
    assert principal.subject.startswith("h:") and "Jens" not in principal.subject
    again = run(auth.verify(tokens.token("dpo", "ministry", subject="Jens Hansen <jens@example.dk>")))
    assert again.subject == principal.subject  # stable, so the access log can follow one person


def test_keycloak_shapes_of_org_and_roles(auth):
    token = tokens.token("caseworker", None, realm_access={"roles": ["offline_access", "caseworker",
                                                                     "default-roles-actionplan"]}, org=["cmm"])
    assert run(auth.verify(token)) == Principal("local:caseworker:none", "caseworker", "cmm")


@pytest.mark.parametrize("claims", [{"org": "mini stry"}, {"org": 7}, {"region": ["a", "b"]}, {"org": "x" * 65}])
def test_malformed_scope_claims_are_refused(auth, claims):
    with pytest.raises(AuthError) as refused:
        run(auth.verify(tokens.token("grant_officer", "ministry", **claims)))
    assert refused.value.code == "unauthenticated" and "malformed" in refused.value.message


@pytest.mark.parametrize("role", ["gateway", "anonymous"])
def test_internal_roles_cannot_come_from_a_token(auth, role):
    with pytest.raises(AuthError) as refused:
        run(auth.verify(tokens.token(role, "ministry")))
    assert refused.value.code == "forbidden"


def test_the_role_list_and_claim_are_configurable():
    custom = Authenticator(settings(**tokens.env(), OIDC_ROLE_CLAIM="roles"), roles={"auditor"})
    assert run(custom.verify(tokens.token("x", "ministry", roles=["auditor"]))).role == "auditor"


# -- settings -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("algorithms", ["HS256", "none", "RS256,HS512", ""])
def test_symmetric_and_none_algorithms_cannot_be_configured(algorithms):
    with pytest.raises(SettingsError, match="OIDC_ALGORITHMS"):
        settings(**tokens.env(), OIDC_ALGORITHMS=algorithms or ",")


def test_the_gateway_needs_an_issuer_and_a_way_to_its_keys():
    with pytest.raises(SettingsError, match="OIDC_ISSUER"):
        Authenticator(settings())
    with pytest.raises(SettingsError, match="OIDC_JWKS_URL"):
        Authenticator(settings(OIDC_ISSUER="urn:actionplan:local-issuer"))
    with pytest.raises(SettingsError, match="PRINCIPAL_KEY"):
        Authenticator(load("gateway", tokens.env()))


def test_a_declared_key_algorithm_must_match_the_token(tmp_path):
    issuer = LocalIssuer(tmp_path).ensure()
    jwk = {**issuer.public_jwk(), "alg": "ES256"}
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    auth = Authenticator(settings(**issuer.env(), OIDC_ALGORITHMS="ES256,ES384"))
    header = {"alg": "ES384", "kid": issuer.kid}  # PyJWT would not even sign ES384 with a P-256 key
    forged = ".".join(base64.urlsafe_b64encode(part).rstrip(b"=").decode() for part in
                      (json.dumps(header).encode(), json.dumps(issuer.claims("dpo", "ministry")).encode(), b"x" * 96))
    with pytest.raises(AuthError, match="does not match its signing key"):
        run(auth.verify(forged))


# -- a loopback OIDC provider: discovery, RS256, rotation, outages ------------------------------------------------
class Provider:
    """Serves /.well-known/openid-configuration and /certs on 127.0.0.1 and signs RS256 tokens."""

    def __init__(self) -> None:
        self.keys = [self._new_key("k1")]
        self.requests: list[str] = []
        self.down = False
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                provider.requests.append(self.path)
                if provider.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                if self.path == "/realms/test/.well-known/openid-configuration":
                    body = {"issuer": provider.issuer, "jwks_uri": f"{provider.base}/realms/test/certs"}
                elif self.path == "/realms/test/certs":
                    body = {"keys": [jwk for _, jwk in provider.keys]
                            + [{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}]}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.issuer = f"{self.base}/realms/test"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def _new_key(kid: str):
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key())), "kid": kid, "use": "sig",
               "alg": "RS256"}
        return private, jwk

    def rotate(self, kid: str) -> None:
        self.keys.insert(0, self._new_key(kid))

    def token(self, role="grant_officer", org="ministry", **extra) -> str:
        private, jwk = self.keys[0]
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": ["actionplan", "account"], "sub": "4f0c7d2e-9a3b-4c1e-8d6f-1a2b3c4d5e6f",
                  "iat": now, "exp": now + 300, "realm_access": {"roles": [role, "offline_access"]}, "org": org,
                  **extra}
        return jwt.encode(claims, private, algorithm="RS256", headers={"kid": jwk["kid"]})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider():
    p = Provider()
    yield p
    p.close()


def test_keys_are_found_by_discovery_and_cached(provider):
    auth = Authenticator(settings(OIDC_ISSUER=provider.issuer))

    async def twice():
        first = await auth.verify(provider.token())
        second = await auth.verify(provider.token("evaluator", "ministry"))
        return first, second
    first, second = run(twice())
    assert first == Principal("4f0c7d2e-9a3b-4c1e-8d6f-1a2b3c4d5e6f", "grant_officer", "ministry")
    assert second.role == "evaluator"
    assert provider.requests == ["/realms/test/.well-known/openid-configuration", "/realms/test/certs"]


def test_a_rotated_key_is_fetched_once_and_unknown_kids_are_rate_limited(provider):
    auth = Authenticator(settings(OIDC_ISSUER=provider.issuer, OIDC_JWKS_URL=f"{provider.issuer}/certs",
                                  OIDC_JWKS_MIN_REFRESH_SECONDS="3600"))
    clock = {"now": time.time()}
    auth._clock = lambda: clock["now"]

    async def scenario():
        await auth.verify(provider.token())
        provider.rotate("k2")
        clock["now"] += 5  # past the first-load retry interval, well inside the refresh interval
        with pytest.raises(AuthError, match="does not publish"):
            await auth.verify(provider.token())  # refresh is rate-limited: no fetch yet
        assert len(provider.requests) == 1
        clock["now"] += 3600
        assert (await auth.verify(provider.token())).role == "grant_officer"  # one refresh finds k2
        assert len(provider.requests) == 2
        for _ in range(20):  # a flood of forged kids causes no fetch
            with pytest.raises(AuthError):
                await auth.verify(tokens.wrong_key(same_kid=False))
        assert len(provider.requests) == 2
    run(scenario())


def test_the_provider_down_before_any_key_is_service_unavailable_then_keys_survive_an_outage(provider):
    auth = Authenticator(settings(OIDC_ISSUER=provider.issuer, OIDC_JWKS_CACHE_SECONDS="1",
                                  OIDC_JWKS_MIN_REFRESH_SECONDS="1"))
    clock = {"now": time.time()}
    auth._clock = lambda: clock["now"]

    async def scenario():
        provider.down = True
        with pytest.raises(AuthError) as refused:
            await auth.verify(provider.token())
        assert refused.value.code == "service_unavailable"
        provider.down = False
        clock["now"] += 2
        assert (await auth.verify(provider.token())).role == "grant_officer"
        provider.down = True
        clock["now"] += 10  # the cache is stale and the provider is down: the known keys still verify
        assert (await auth.verify(provider.token())).role == "grant_officer"
    run(scenario())


def test_a_discovery_document_naming_another_issuer_is_not_trusted(provider):
    auth = Authenticator(settings(OIDC_ISSUER=provider.issuer + "x"))
    with pytest.raises(AuthError) as refused:
        run(auth.verify(provider.token()))
    assert refused.value.code == "service_unavailable"


def test_fetching_keys_never_runs_on_the_event_loop(tmp_path):
    issuer = LocalIssuer(tmp_path).ensure()
    threads = []

    def fetch(url):
        threads.append(threading.current_thread())
        return issuer.jwks()
    auth = Authenticator(settings(**issuer.env()), fetch=fetch)
    assert run(auth.verify(issuer.token("dpo", "ministry"))).role == "dpo"
    assert threads and threads[0] is not threading.main_thread()


# -- the principal rides every RPC, sealed ------------------------------------------------------------------------
@pytest.fixture
def pool(monkeypatch):
    sent = []

    class FakeProxy:
        def __init__(self, config, timeout=None):
            self._worker_ctx = SimpleNamespace(data={})
            self._reply_listener = object()

        def start(self):
            pass

        def stop(self):
            pass

    class FakeMethodProxy:
        def __init__(self, worker_ctx, service, method, listener, **options):
            self.worker_ctx = worker_ctx

        def call_async(self, **kwargs):
            sent.append(dict(self.worker_ctx.data))
            return self

        def result(self):
            return {"ok": True}

    monkeypatch.setattr(gateway_rpc, "ClusterRpcProxy", FakeProxy)
    monkeypatch.setattr(gateway_rpc, "MethodProxy", FakeMethodProxy)
    return RpcPool(settings(RPC_POOL_SIZE="1")), sent


def test_each_call_carries_the_callers_sealed_principal_until_its_deadline(pool):
    rpc, sent = pool
    officer = Principal("local:grant_officer:ministry", "grant_officer", "ministry")
    assert run(rpc.call("grants", "disburse", principal=officer, request_id="r-00000001")) == {"ok": True}
    headers = sent[0]
    assert unseal(headers[HEADER], KEY) == officer
    with pytest.raises(Exception, match="expired"):
        unseal(headers[HEADER], KEY, now=headers["deadline"] + 5)


def test_a_pooled_proxy_never_keeps_the_previous_callers_principal(pool):
    rpc, sent = pool
    run(rpc.call("grants", "health", principal=GATEWAY))
    rpc.call_sync("grants", "health", {}, {})  # no principal given: none is sent
    assert unseal(sent[0][HEADER], KEY) == GATEWAY
    assert HEADER not in sent[1]


def test_a_call_without_a_principal_is_a_programming_error(pool):
    rpc, _ = pool
    with pytest.raises(TypeError):
        run(rpc.call("grants", "health"))
