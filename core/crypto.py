"""Secrets at rest: AES-256-GCM with key ids, so old keys keep decrypting during a rotation.

A blob is ``version (1 byte) | key id (8 bytes) | nonce (12 bytes) | ciphertext + tag``. The
caller's AAD binds a blob to its place (tenant/instance/name): the same blob read from any other
place fails authentication. The blob's header is authenticated as well, so its key id cannot be
rewritten without detection.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import SecretDecryptError, SecretKeyError

VERSION = 1
KEY_BYTES = 32
KEY_ID_BYTES = 8
NONCE_BYTES = 12
_HEADER_BYTES = 1 + KEY_ID_BYTES
_TAG_BYTES = 16
# Domain-separates the id hash from any other use of the key, so the id reveals nothing usable.
_KEY_ID_CONTEXT = b"dcoder-secrets-key-id/v1\x00"


def key_id_of(key: bytes) -> str:
    """The short public id of a key: a hex prefix of a domain-separated SHA-256, never the key."""
    return hashlib.sha256(_KEY_ID_CONTEXT + key).digest()[:KEY_ID_BYTES].hex()


class SecretBox:
    """Encrypts with the newest key; decrypts with whichever key a blob names."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise SecretKeyError("at least one secrets key is needed")
        self._ciphers: dict[bytes, AESGCM] = {}
        for key in keys:
            if len(key) != KEY_BYTES:
                raise SecretKeyError(f"a secrets key must be {KEY_BYTES} bytes, got {len(key)}")
            raw_id = bytes.fromhex(key_id_of(key))
            self._ciphers.setdefault(raw_id, AESGCM(key))
        self._newest = bytes.fromhex(key_id_of(keys[0]))

    @property
    def newest_key_id(self) -> str:
        """Id of the key every new ciphertext uses."""
        return self._newest.hex()

    @property
    def key_ids(self) -> list[str]:
        """Ids of every known key, newest first."""
        return [raw.hex() for raw in self._ciphers]

    def needs_rewrap(self, key_id: str) -> bool:
        """Whether a ciphertext under ``key_id`` should be re-encrypted with the newest key."""
        return key_id != self.newest_key_id

    def encrypt(self, plaintext: str, *, aad: bytes) -> tuple[bytes, str]:
        """Encrypt with the newest key; return (blob, key id)."""
        header = bytes([VERSION]) + self._newest
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._newest].encrypt(nonce, plaintext.encode(), header + aad)
        return header + nonce + sealed, self.newest_key_id

    def decrypt(self, blob: bytes, *, aad: bytes) -> str:
        """Decrypt a blob made by ``encrypt`` with the same AAD; SecretDecryptError otherwise."""
        if len(blob) < _HEADER_BYTES + NONCE_BYTES + _TAG_BYTES or blob[0] != VERSION:
            raise SecretDecryptError("secret blob malformed or of an unknown version")
        header, raw_id = blob[:_HEADER_BYTES], blob[1:_HEADER_BYTES]
        cipher = self._ciphers.get(raw_id)
        if cipher is None:
            raise SecretDecryptError(
                f"secret encrypted with unknown key {raw_id.hex()}", key_id=raw_id.hex()
            )
        nonce = blob[_HEADER_BYTES : _HEADER_BYTES + NONCE_BYTES]
        try:
            plain = cipher.decrypt(nonce, blob[_HEADER_BYTES + NONCE_BYTES :], header + aad)
        except InvalidTag as err:
            raise SecretDecryptError("secret failed authentication (tampered or moved)") from err
        return plain.decode()

    def rewrap(self, blob: bytes, *, aad: bytes) -> tuple[bytes, str]:
        """Re-encrypt a blob with the newest key (same AAD)."""
        return self.encrypt(self.decrypt(blob, aad=aad), aad=aad)
