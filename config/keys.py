"""Key material: the payload keys (`PAYLOAD_KEYS`, else the key `collections up` made under
`var/`) and the read model's data keys (`DATA_KEYS`, else derived from the payload keys), each
a list of `(key id, 32 bytes)`, oldest first. The newest key seals; every key still opens what
it sealed, found by the id written beside the ciphertext.

One reader for both, so a deployment that configures only `PAYLOAD_KEYS` encrypts its read
model too, and one that wants them apart sets `DATA_KEYS` as well.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

from config.settings import Settings

KEY_BYTES = 32
LOCAL_KEY_FILE = "payload.key"
# Derivation labels: a data key derived from a payload key never equals it.
_DATA_KEY_INFO = b"collections/read-model/v1"

KeyMaterial = list[tuple[str, bytes]]


def generate_key() -> str:
    """A new random AES-256 key, base64, for an `id:key` entry in `PAYLOAD_KEYS` or `DATA_KEYS`."""
    return base64.b64encode(AESGCM.generate_key(bit_length=KEY_BYTES * 8)).decode()


def parse_keys(pairs: Sequence[tuple[str, SecretStr]], variable: str) -> KeyMaterial:
    """`id:base64` pairs as configured; the error names the variable and the key id, never the
    key."""
    keys = []
    for key_id, secret in pairs:
        try:
            key = base64.b64decode(secret.get_secret_value(), validate=True)
        except binascii.Error:
            raise ValueError(f"{variable}: key {key_id!r} is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise ValueError(f"{variable}: key {key_id!r} has {len(key)} bytes; AES-256 needs 32")
        keys.append((key_id, key))
    return keys


def payload_keys(settings: Settings) -> KeyMaterial:
    """`PAYLOAD_KEYS`, else this machine's key under `var/` when `up` made one, else none."""
    if settings.payload_keys:
        return parse_keys(settings.payload_keys, "PAYLOAD_KEYS")
    local = settings.var_dir / LOCAL_KEY_FILE
    return [read_local_key(local)] if local.exists() else []


def data_keys(settings: Settings) -> KeyMaterial:
    """`DATA_KEYS`, else one data key derived (HKDF-SHA256) from each payload key, same ids."""
    if settings.data_keys:
        return parse_keys(settings.data_keys, "DATA_KEYS")
    return [(key_id, derive(key, _DATA_KEY_INFO)) for key_id, key in payload_keys(settings)]


def derive(key: bytes, info: bytes) -> bytes:
    """A key of its own for one purpose, from `key`."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(key)


def load_or_create_local_key(var_dir: Path) -> tuple[str, bytes]:
    """The local stack's key: made once under `var_dir`, readable by its owner only.

    The id carries a random suffix so that a key made after `var/` was wiped is reported
    as unknown, not as a failed decryption, when it meets a history the old key wrote.
    """
    path = var_dir / LOCAL_KEY_FILE
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        # Written aside and linked into place, so a concurrent reader never sees half a key.
        draft = var_dir / f".{LOCAL_KEY_FILE}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as file:
                file.write(f"local-{secrets.token_hex(4)}:{generate_key()}\n")
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        finally:
            draft.unlink()
    return read_local_key(path)


def read_local_key(path: Path) -> tuple[str, bytes]:
    key_id, _, encoded = path.read_text().strip().partition(":")
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        key = b""
    if not key_id or len(key) != KEY_BYTES:
        raise ValueError(f"{path} is not an `id:base64-key` line with a 32-byte key")
    return key_id, key
