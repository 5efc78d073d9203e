"""Payload encryption: AES-256-GCM over each whole serialized payload, with key rotation.

The newest key (the last one configured) encrypts; every configured key still decrypts, chosen
by the key id written beside the ciphertext, so adding a key never strands older histories.
The plaintext is the serialized payload, metadata included, so not even the encoding of a
customer's data shows. The layout (12-byte nonce, then ciphertext and tag) matches Temporal's
encryption samples in other languages.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from config.settings import Settings

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
KEY_BYTES = 32
NONCE_BYTES = 12
LOCAL_KEY_FILE = "payload.key"


class CodecError(ValueError):
    """A payload that cannot be decrypted. Names the key id, never the payload's content."""


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise ValueError("EncryptionCodec needs at least one key")
        self._ciphers: dict[str, AESGCM] = {}
        for key_id, key in keys:
            if not key_id:
                raise ValueError("a payload key has an empty key id")
            if key_id in self._ciphers:
                raise ValueError(f"payload key id {key_id!r} is configured twice")
            if len(key) != KEY_BYTES:
                raise ValueError(
                    f"payload key {key_id!r} has {len(key)} bytes; AES-256 needs {KEY_BYTES}"
                )
            self._ciphers[key_id] = AESGCM(key)
        self.key_id = keys[-1][0]

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        cipher = self._ciphers[self.key_id]
        metadata = {"encoding": ENCODING, KEY_ID: self.key_id.encode()}
        encoded = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            data = nonce + cipher.encrypt(nonce, payload.SerializeToString(), None)
            encoded.append(Payload(metadata=metadata, data=data))
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decrypt(p) if p.metadata.get("encoding") == ENCODING else p for p in payloads]

    def _decrypt(self, payload: Payload) -> Payload:
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise CodecError(
                f"payload was encrypted with key id {key_id!r}, which is not configured "
                f"(configured: {', '.join(self._ciphers)}); add it to PAYLOAD_KEYS"
            )
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            return Payload.FromString(cipher.decrypt(nonce, sealed, None))
        except (InvalidTag, ValueError, DecodeError):
            raise CodecError(
                f"payload under key id {key_id!r} failed authentication: "
                "it was altered, truncated, or its key under that id has changed"
            ) from None


def codec_from_settings(settings: Settings) -> EncryptionCodec | None:
    """The codec for `PAYLOAD_KEYS` (base64 keys, oldest first).

    Without `PAYLOAD_KEYS`, the key `collections up` made for this machine under `var/` (so an
    operator's `collections intake` in another shell encrypts like the stack does), else None.
    """
    if not settings.payload_keys:
        local = settings.var_dir / LOCAL_KEY_FILE
        return EncryptionCodec([_read_local_key(local)]) if local.exists() else None
    keys = []
    for key_id, secret in settings.payload_keys:
        try:
            key = base64.b64decode(secret.get_secret_value(), validate=True)
        except binascii.Error:
            raise ValueError(f"PAYLOAD_KEYS: key {key_id!r} is not valid base64") from None
        keys.append((key_id, key))
    return EncryptionCodec(keys)


def generate_key() -> str:
    """A new random AES-256 key, base64, for an `id:key` entry in `PAYLOAD_KEYS`."""
    return base64.b64encode(AESGCM.generate_key(bit_length=KEY_BYTES * 8)).decode()


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
    return _read_local_key(path)


def _read_local_key(path: Path) -> tuple[str, bytes]:
    key_id, _, encoded = path.read_text().strip().partition(":")
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        key = b""
    if not key_id or len(key) != KEY_BYTES:
        raise ValueError(f"{path} is not an `id:base64-key` line with a 32-byte key")
    return key_id, key
