"""Application-level encryption of free-text fields (notes) at rest, with AES-256-GCM.

A value is ``enc2:<kid>:<base64(nonce + ciphertext)>``. The associated data binds the format, the key id, the
field's context (collection and document id) and the field's name, so a ciphertext copied onto another document, or
from one field into another of the same document (a reason into a note), fails to decrypt instead of showing one
person's words in another place. Values written before key ids existed (``enc1:``, context only) still decrypt.

Rotation. ``NOTES_ENCRYPTION_KEY`` holds one or more keys, ``[kid:]base64[,[kid:]base64...]``; the first is active
and encrypts, the others only decrypt (a key without an explicit id gets one derived from it, ``k`` + 8 hex):
1. generate a key (``python -m kit.fieldcrypt --new-key``) and put it first, keeping the old one after it;
   restart every process that holds the key (new writes use the new key, old values still read);
2. values are re-encrypted under the active key whenever their document is written again (``FieldCipher.rotate``
   re-seals one value; ``needs_rotation`` tells which do);
3. once nothing references the old key id (search the collections for ``enc2:<old kid>:`` and ``enc1:``), drop
   it from the list. A value under a key that is no longer listed cannot be read: keep the old key until then.
"""
from __future__ import annotations

import base64
import os
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc2:"
LEGACY_PREFIX = "enc1:"


def _kid_of(key: bytes) -> str:
    from kit.settings import key_id
    return getattr(key, "kid", "") or key_id(key)


class FieldCipher:
    def __init__(self, key: bytes) -> None:
        """``key``: one key (bytes; its id derived), or a ``kit.settings.KeyRing`` whose first key is active."""
        keys = key.all() if hasattr(key, "all") else (key,)
        for k in keys:
            if len(k) < 32:
                raise ValueError("the notes encryption key must be at least 32 bytes")
        self.active_kid = _kid_of(keys[0])
        self._aeads = {_kid_of(k): AESGCM(bytes(k)[:32]) for k in keys}
        self._legacy = [self._aeads[_kid_of(k)] for k in keys]  # enc1 carries no key id: try each key

    @staticmethod
    def _aad(kid: str, context: str, field: str) -> bytes:
        return "\x1f".join(("enc2", kid, context, field)).encode("utf-8")

    def encrypt(self, plaintext: str, context: str, field: str = "") -> str:
        nonce = os.urandom(12)
        kid = self.active_kid
        sealed = self._aeads[kid].encrypt(nonce, plaintext.encode("utf-8"), self._aad(kid, context, field))
        return f"{PREFIX}{kid}:" + base64.b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, token: str, context: str, field: str = "") -> str:
        if token.startswith(PREFIX):
            kid, _, body = token[len(PREFIX):].partition(":")
            aead = self._aeads.get(kid)
            if aead is None:
                raise ValueError(f"encrypted under key {kid!r}, which is not configured (NOTES_ENCRYPTION_KEY)")
            raw = base64.b64decode(body)
            return aead.decrypt(raw[:12], raw[12:], self._aad(kid, context, field)).decode("utf-8")
        if token.startswith(LEGACY_PREFIX):
            raw = base64.b64decode(token[len(LEGACY_PREFIX):])
            for aead in self._legacy:
                try:
                    return aead.decrypt(raw[:12], raw[12:], context.encode("utf-8")).decode("utf-8")
                except Exception:  # InvalidTag: another key, or another record's ciphertext
                    continue
            raise ValueError("an enc1 value that no configured key decrypts for this record")
        raise ValueError("not an encrypted field")

    def needs_rotation(self, token: str) -> bool:
        """True for a value not sealed under the active key (enc1, or enc2 of a retired key)."""
        return not token.startswith(f"{PREFIX}{self.active_kid}:")

    def rotate(self, token: str, context: str, field: str = "") -> str:
        """The value sealed under the active key (unchanged if it already is)."""
        if not self.needs_rotation(token):
            return token
        return self.encrypt(self.decrypt(token, context, field), context, field)

    def __repr__(self) -> str:
        return f"FieldCipher(<keys hidden>, active {self.active_kid})"


def new_key() -> str:
    """A fresh random key, base64, as the key settings expect it."""
    return base64.b64encode(os.urandom(32)).decode("ascii")


if __name__ == "__main__":
    if sys.argv[1:] != ["--new-key"]:
        print("usage: python -m kit.fieldcrypt --new-key", file=sys.stderr)
        sys.exit(2)
    print(new_key())
