"""Missive tokens at rest: AES-256-GCM under MISSIVE_MCP_SECRET_KEY, with key rotation; and the digests by which
tokens, codes and keys are looked up: HMAC-SHA-256 under a key derived from the same secret.

A sealed value is URL-safe base64 of `version (1 byte) | key id (4 bytes) | nonce (12) | ciphertext+tag`. The key
id is the first 4 bytes of SHA-256 of the key, so a value names the key that sealed it: after a rotation
(`MISSIVE_MCP_SECRET_KEY=new,old`) old values still open, and new ones are sealed with the first key. Each value
is bound to its row (the associated data), so a token copied onto another person's row does not open.

Digests are keyed so that someone who can write to the database but does not hold MISSIVE_MCP_SECRET_KEY cannot
add a row that a bearer token of their choosing opens: a plain SHA-256 of their token matches nothing. Each key
gives its own digests; lookups try every key and store under the first, so a rotation keeps sign-ins working.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = b"\x01"


class SealError(ValueError):
    """A stored value could not be opened: a key is missing from MISSIVE_MCP_SECRET_KEY, or the value was altered."""


class Sealer:
    """Seals and opens secrets with the operator's keys; the first key seals."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys or any(len(key) != 32 for key in keys):
            raise ValueError("Sealer needs one or more 32-byte keys")
        self._keys = [(key_id(key), AESGCM(key)) for key in keys]
        # A separate key for digests (domain separation: the AES key itself is never used as an HMAC key).
        self._digest_keys = [hmac.new(key, b"missive-mcp digest v1", hashlib.sha256).digest() for key in keys]

    @classmethod
    def from_text(cls, keys: Sequence[str]) -> Sealer:
        return cls([base64.urlsafe_b64decode(key.encode("ascii")) for key in keys])

    def seal(self, secret: str, *, bound_to: str) -> str:
        kid, aead = self._keys[0]
        nonce = os.urandom(12)
        sealed = aead.encrypt(nonce, secret.encode(), bound_to.encode())
        return base64.urlsafe_b64encode(VERSION + kid + nonce + sealed).decode("ascii")

    def open(self, value: str, *, bound_to: str) -> str:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
        if raw[:1] != VERSION or len(raw) < 1 + 4 + 12 + 16:
            raise SealError("A stored Missive token is not in a format this server knows.")
        kid, nonce, sealed = raw[1:5], raw[5:17], raw[17:]
        for candidate, aead in self._keys:
            if hmac.compare_digest(candidate, kid):
                try:
                    return aead.decrypt(nonce, sealed, bound_to.encode()).decode()
                except InvalidTag:
                    break
        raise SealError(
            "A stored Missive token cannot be opened with MISSIVE_MCP_SECRET_KEY: the key that sealed it is not in "
            "the list (after a rotation keep the old key after the new one), or the database was altered."
        )

    def needs_reseal(self, value: str) -> bool:
        """Whether a value was sealed with a key other than the first (a rotation is under way)."""
        return base64.urlsafe_b64decode(value.encode("ascii"))[1:5] != self._keys[0][0]

    def digest(self, secret: str) -> str:
        """How a token, code or key is stored: HMAC-SHA-256 under the first key, hex (long random strings need no
        salt or stretching)."""
        return hmac.new(self._digest_keys[0], secret.encode(), hashlib.sha256).hexdigest()

    def tags(self, digest: str, grant_id: str, expires_at: int | None) -> list[str]:
        """What binds a stored secret to its grant and expiry, under every key (the first key's first): a row
        moved to another grant, or given a later expiry, by someone who can write the database but does not hold
        the key, no longer matches its tag."""
        message = f"{digest}|{grant_id}|{expires_at}".encode()
        return [hmac.new(key, b"tag|" + message, hashlib.sha256).hexdigest() for key in self._digest_keys]

    def digests(self, secret: str) -> list[str]:
        """The digest under every key, the first key's first: what a lookup tries during a rotation."""
        return [hmac.new(key, secret.encode(), hashlib.sha256).hexdigest() for key in self._digest_keys]


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:4]
