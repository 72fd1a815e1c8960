"""SecretBox: round trip, tamper, wrong AAD, unknown key, rotation with old keys."""

from __future__ import annotations

import os

import pytest

from core.crypto import KEY_BYTES, NONCE_BYTES, SecretBox, key_id_of
from core.errors import SecretDecryptError, SecretKeyError

AAD = b"tenant-a/inst-1/api_token"


def _key() -> bytes:
    return os.urandom(KEY_BYTES)


def test_round_trip_and_blob_layout() -> None:
    key = _key()
    box = SecretBox([key])
    blob, key_id = box.encrypt("s3cr3t-välue", aad=AAD)
    assert key_id == box.newest_key_id == key_id_of(key)
    assert len(key_id) == 16 and key.hex()[:16] != key_id
    assert blob[0] == 1 and blob[1:9].hex() == key_id
    assert len(blob) == 1 + 8 + NONCE_BYTES + len("s3cr3t-välue".encode()) + 16
    assert b"s3cr3t" not in blob
    assert box.decrypt(blob, aad=AAD) == "s3cr3t-välue"


def test_same_plaintext_encrypts_differently() -> None:
    box = SecretBox([_key()])
    assert box.encrypt("x", aad=AAD)[0] != box.encrypt("x", aad=AAD)[0]


@pytest.mark.parametrize("position", [0, 1, 9, 21, -1])
def test_any_flipped_byte_fails(position: int) -> None:
    box = SecretBox([_key()])
    blob = bytearray(box.encrypt("value", aad=AAD)[0])
    blob[position] ^= 0x01
    with pytest.raises(SecretDecryptError):
        box.decrypt(bytes(blob), aad=AAD)


def test_truncated_blob_fails() -> None:
    box = SecretBox([_key()])
    blob = box.encrypt("value", aad=AAD)[0]
    with pytest.raises(SecretDecryptError):
        box.decrypt(blob[:20], aad=AAD)


def test_wrong_aad_fails() -> None:
    box = SecretBox([_key()])
    blob, _ = box.encrypt("value", aad=AAD)
    with pytest.raises(SecretDecryptError):
        box.decrypt(blob, aad=b"tenant-b/inst-1/api_token")


def test_unknown_key_fails_with_its_id() -> None:
    old = SecretBox([_key()])
    blob, key_id = old.encrypt("value", aad=AAD)
    with pytest.raises(SecretDecryptError) as caught:
        SecretBox([_key()]).decrypt(blob, aad=AAD)
    assert caught.value.extra["key_id"] == key_id


def test_rotation_old_keys_decrypt_newest_encrypts() -> None:
    old_key, new_key = _key(), _key()
    old_blob, old_id = SecretBox([old_key]).encrypt("value", aad=AAD)
    box = SecretBox([new_key, old_key])
    assert box.decrypt(old_blob, aad=AAD) == "value"
    assert box.needs_rewrap(old_id) and not box.needs_rewrap(box.newest_key_id)
    new_blob, new_id = box.rewrap(old_blob, aad=AAD)
    assert new_id == key_id_of(new_key) != old_id
    assert SecretBox([new_key]).decrypt(new_blob, aad=AAD) == "value"
    assert box.key_ids == [key_id_of(new_key), key_id_of(old_key)]


@pytest.mark.parametrize("keys", [[], [b"short"], [os.urandom(16)]])
def test_bad_keys_refused(keys: list[bytes]) -> None:
    with pytest.raises(SecretKeyError):
        SecretBox(keys)
