"""Payload encryption: AES-256-GCM over each whole serialized payload, with key rotation.

The newest key (the last one configured) encrypts; every configured key still decrypts, chosen
by the key id written beside the ciphertext, so adding a key never strands older histories.
The plaintext is the serialized payload, metadata included, so not even the encoding of a
customer's data shows. The layout (12-byte nonce, then ciphertext and tag) matches Temporal's
encryption samples in other languages.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from config.keys import (
    KEY_BYTES,
    LOCAL_KEY_FILE,
    generate_key,
    load_or_create_local_key,
    payload_keys,
)
from config.settings import Settings

__all__ = [
    "LOCAL_KEY_FILE",
    "CodecError",
    "EncryptionCodec",
    "codec_from_settings",
    "generate_key",
    "load_or_create_local_key",
]

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


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
    keys = payload_keys(settings)
    return EncryptionCodec(keys) if keys else None
