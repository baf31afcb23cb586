"""The embedded local OpenID Connect issuer of ``make run`` and the tests: an EC P-256 key and its JWKS in a folder.

The key is generated on first use (``.local/issuer/`` for ``make run`` and ``make token``, the test session's workdir
for the tests): ``signing-key.pem`` (mode 0600, never leaves the folder) and ``jwks.json`` (the public key, which the
local gateway reads through ``OIDC_JWKS_URL=file://…``; no network at all). Tokens have the shape Keycloak issues
(``realm_access.roles``, ``org``, ``region``), so the gateway verifies local and production tokens the same way.

    python -m deploy.local.issuer token --role grant_officer --org ministry     # what `make token` runs
    python -m deploy.local.issuer env                                          # the gateway's OIDC_* settings
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parents[2]
LOCAL_ISSUER = "urn:actionplan:local-issuer"
AUDIENCE = "actionplan"
ALGORITHM = "ES256"
KEY_FILE, JWKS_FILE = "signing-key.pem", "jwks.json"


def default_directory() -> Path:
    """Where ``make run`` keeps the issuer: ``$ACTIONPLAN_LOCAL_DIR/issuer``, by default ``.local/issuer``."""
    return Path(os.environ.get("ACTIONPLAN_LOCAL_DIR", ROOT / ".local")) / "issuer"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class LocalIssuer:
    def __init__(self, directory: Path, issuer: str = LOCAL_ISSUER, audience: str = AUDIENCE) -> None:
        self.directory = Path(directory)
        self.issuer = issuer
        self.audience = audience
        self._private: ec.EllipticCurvePrivateKey | None = None

    # -- keys ---------------------------------------------------------------------------------------------------
    @property
    def key_path(self) -> Path:
        return self.directory / KEY_FILE

    @property
    def jwks_path(self) -> Path:
        return self.directory / JWKS_FILE

    @property
    def jwks_url(self) -> str:
        return self.jwks_path.resolve().as_uri()

    def ensure(self) -> "LocalIssuer":
        """Load the signing key, generating it (and publishing its JWKS) on first use."""
        if self._private is not None:
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        if not self.key_path.exists():
            self._generate()
        key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise RuntimeError(f"{self.key_path} is not an EC private key")
        self._private = key
        jwks = json.dumps(self.jwks(), indent=2) + "\n"
        if not self.jwks_path.exists() or self.jwks_path.read_text() != jwks:
            tmp = self.jwks_path.with_name(f".{JWKS_FILE}.{os.getpid()}")
            tmp.write_text(jwks)
            os.replace(tmp, self.jwks_path)
        return self

    def _generate(self) -> None:
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        tmp = self.key_path.with_name(f".{KEY_FILE}.{os.getpid()}.{uuid.uuid4().hex[:6]}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        try:
            os.link(tmp, self.key_path)  # fails if another process generated one meanwhile: use theirs
        except FileExistsError:
            pass
        finally:
            tmp.unlink()

    @property
    def private_key(self) -> ec.EllipticCurvePrivateKey:
        return self.ensure()._private

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()

    def public_pem(self) -> bytes:
        return self.public_key.public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)

    def public_jwk(self) -> dict:
        numbers = self.public_key.public_numbers()
        jwk = {"crv": "P-256", "kty": "EC", "x": _b64(numbers.x.to_bytes(32, "big")),
               "y": _b64(numbers.y.to_bytes(32, "big"))}
        # RFC 7638 thumbprint: the required members, sorted, no whitespace
        kid = _b64(hashlib.sha256(json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode()).digest())
        return {**jwk, "kid": kid, "use": "sig", "alg": ALGORITHM}

    @property
    def kid(self) -> str:
        return self.public_jwk()["kid"]

    def jwks(self) -> dict:
        return {"keys": [self.public_jwk()]}

    def env(self) -> dict[str, str]:
        """The gateway settings that make it trust this issuer."""
        self.ensure()
        return {"OIDC_ISSUER": self.issuer, "OIDC_AUDIENCE": self.audience, "OIDC_JWKS_URL": self.jwks_url}

    # -- tokens -------------------------------------------------------------------------------------------------
    def claims(self, role: str, organisation: str | None = None, region: str | None = None, *,
               subject: str | None = None, lifetime_s: float = 3600, **extra) -> dict:
        """A token's claims in Keycloak's shape; ``extra`` adds or overrides claims (a value of None removes one)."""
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.audience, "sub": subject or _subject(role, organisation),
                  "iat": now, "nbf": now, "exp": now + int(lifetime_s), "jti": uuid.uuid4().hex,
                  "azp": "actionplan-local", "typ": "Bearer", "realm_access": {"roles": [role]}}
        if organisation is not None:
            claims["org"] = organisation
        if region is not None:
            claims["region"] = region
        for name, value in extra.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def sign(self, claims: dict, headers: dict | None = None) -> str:
        return jwt.encode(claims, self.private_key, algorithm=ALGORITHM,
                          headers={"kid": self.kid, "typ": "JWT", **(headers or {})})

    def token(self, role: str, organisation: str | None = None, region: str | None = None, *,
              subject: str | None = None, lifetime_s: float = 3600, **extra) -> str:
        return self.sign(self.claims(role, organisation, region, subject=subject, lifetime_s=lifetime_s, **extra))


def _subject(role: str, organisation: str | None) -> str:
    subject = f"local:{role}:{organisation or 'none'}"
    return "".join(c if c.isalnum() or c in "._:-" else "-" for c in subject)[:64]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.issuer", description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=None, help="the issuer's folder (default: .local/issuer)")
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="print a bearer token the local stack accepts")
    token.add_argument("--role", required=True, help="a role id of the policy file, e.g. grant_officer")
    token.add_argument("--org", default="", help="the organisation, e.g. ministry, cmm, provest")
    token.add_argument("--region", default="", help="the region, e.g. sjaelland")
    token.add_argument("--subject", default="", help="the pseudonymous subject id (default: derived)")
    token.add_argument("--lifetime", type=float, default=8 * 3600, help="seconds until it expires (default 8 h)")
    commands.add_parser("env", help="print the gateway's OIDC settings for this issuer")
    commands.add_parser("jwks", help="print the public JWKS")
    args = parser.parse_args(argv)
    issuer = LocalIssuer(args.dir or default_directory())
    if args.command == "token":
        if not args.role.strip():
            parser.error("a role is required: make token ROLE=<role> ORG=<organisation> [REGION=<region>]")
        from gateway.auth import token_roles
        roles = token_roles()
        if args.role not in roles:
            print(f"warning: {args.role!r} is not a role of the policy file ({', '.join(sorted(roles))}); the "
                  "gateway will refuse the token", file=sys.stderr)
        print(issuer.token(args.role, args.org or None, args.region or None, subject=args.subject or None,
                           lifetime_s=args.lifetime))
    elif args.command == "env":
        print("".join(f"{k}={v}\n" for k, v in issuer.env().items()), end="")
    else:
        print(json.dumps(issuer.ensure().jwks(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
