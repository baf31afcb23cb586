"""Signed event envelopes, for topics any process that reaches the broker could write to.

A producer signs the envelope (its id, source, type, subject, time, dataschema and data, as canonical JSON) with its
Ed25519 key; the signature travels in the data as ``signature: {producer, alg, value}``. A consumer holds a registry
of producers and their public keys (configuration, e.g. ``AD_TRIAGE_PRODUCERS``) and refuses an event that is
unsigned, signed by a producer it does not know, or whose signature does not match: it cannot have come from a
registered producer, so it is dead-lettered with that reason. Consumers hold only public keys: they cannot sign.
"""
from __future__ import annotations

import base64
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG = "Ed25519"
SIGNED_ATTRIBUTES = ("id", "source", "type", "subject", "time", "dataschema")


class UnverifiedEvent(ValueError):
    """An event that does not come from a registered producer; the message says why (it never quotes data)."""


def _signed_bytes(envelope: dict) -> bytes:
    data = {k: v for k, v in envelope["data"].items() if k != "signature"}
    body = {**{k: envelope.get(k) for k in SIGNED_ATTRIBUTES}, "data": data}
    return json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode("utf-8")


class Signer:
    def __init__(self, producer: str, seed: bytes) -> None:
        self.producer = producer
        self._key = Ed25519PrivateKey.from_private_bytes(bytes(seed)[:32])

    def signature(self, envelope: dict) -> dict:
        """The ``signature`` member for ``envelope`` (whose data must already hold everything else)."""
        value = self._key.sign(_signed_bytes(envelope))
        return {"producer": self.producer, "alg": ALG, "value": base64.b64encode(value).decode("ascii")}

    def public_key(self) -> str:
        raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode("ascii")

    def __repr__(self) -> str:
        return f"Signer({self.producer!r}, <key hidden>)"


def public_key_of(seed: bytes) -> str:
    """base64 of the public key for a signing seed: the value to register for the producer."""
    return Signer("-", seed).public_key()


def verify(envelope: dict, registry: dict[str, bytes], producer_field: str | None = None) -> str:
    """The registered producer that signed ``envelope``; raises UnverifiedEvent otherwise.

    ``producer_field``: a data member that must name the same producer (so the data cannot claim another)."""
    signature = envelope.get("data", {}).get("signature")
    if not isinstance(signature, dict):
        raise UnverifiedEvent(f"{envelope.get('type')} {envelope.get('id')}: unsigned: only signed events from "
                              "registered producers are accepted")
    producer = signature.get("producer")
    public = registry.get(producer) if isinstance(producer, str) else None
    if public is None:
        raise UnverifiedEvent(f"{envelope.get('type')} {envelope.get('id')}: producer {str(producer)[:64]!r} is not "
                              "registered")
    if signature.get("alg") != ALG:
        raise UnverifiedEvent(f"{envelope.get('type')} {envelope.get('id')}: signature algorithm must be {ALG}")
    try:
        value = base64.b64decode(signature.get("value") or "", validate=True)
        Ed25519PublicKey.from_public_bytes(public).verify(value, _signed_bytes(envelope))
    except (InvalidSignature, ValueError):
        raise UnverifiedEvent(f"{envelope.get('type')} {envelope.get('id')}: the signature of producer "
                              f"{producer!r} does not match the event") from None
    if producer_field and envelope["data"].get(producer_field) != producer:
        raise UnverifiedEvent(f"{envelope.get('type')} {envelope.get('id')}: {producer_field} is not the signing "
                              f"producer {producer!r}")
    return producer
