"""Application-level encryption of free-text fields (notes) at rest, with AES-256-GCM.

The field's context (collection and document id) is bound as associated data, so a ciphertext copied onto another
document fails to decrypt instead of showing one person's notes on another's record.
"""
from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc1:"


class FieldCipher:
    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the notes encryption key must be at least 32 bytes")
        self._aead = AESGCM(key[:32])

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, token: str, context: str) -> str:
        if not token.startswith(PREFIX):
            raise ValueError("not an encrypted field")
        raw = base64.b64decode(token[len(PREFIX):])
        return self._aead.decrypt(raw[:12], raw[12:], context.encode("utf-8")).decode("utf-8")

    def __repr__(self) -> str:
        return "FieldCipher(<key hidden>)"
