"""Customers' personal data sealed at rest in the read model: AES-256-GCM per field, with key
ids and rotation, and a keyed blind index where an equality lookup is needed.

- `Sealed(purpose)` and `SealedJSON(purpose)` are column types: a value is sealed as it is
  written and opened as it is read, so queries and writes use plain values. A sealed value
  reads `sealed1:<key id>:<base64 nonce+ciphertext>`; the column's purpose
  (`customers.mobile`) is authenticated with it, so a value copied into another column does not
  open. A value without the prefix (written before sealing, or by a migration) is read as it
  is; `collections keys reseal` seals it, and re-seals everything under the newest key.
- `DataKeys.index(value)` is an HMAC-SHA256 of a normalised value under a key derived for
  indexing: a STOP reply finds its customer by phone number (`customers.mobile_index`) without
  the number being stored in clear. Lookups try every key's index, so rotation never loses one.
- The process's keys are set once at start (`configure`, by `readmodel.engine.open_database`);
  sealing without them fails closed (`MissingDataKeys`), it never writes in clear.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Dialect, Text
from sqlalchemy.types import TypeDecorator

from config.keys import derive

PREFIX = "sealed1:"
NONCE_BYTES = 12
_INDEX_INFO = b"collections/blind-index/v1"


class MissingDataKeys(RuntimeError):
    def __init__(self) -> None:
        super().__init__(
            "the read model's data keys are not configured: personal data is never written in "
            "clear. Set PAYLOAD_KEYS (or DATA_KEYS); `collections keys new` makes a key"
        )


class SealError(ValueError):
    """A sealed value that does not open; names the key id and column, never the value."""


class DataKeys:
    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise ValueError("DataKeys needs at least one key")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys}
        self._index_keys = [derive(key, _INDEX_INFO) for _, key in keys]
        self.newest = keys[-1][0]

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    def seal(self, text: str, purpose: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.newest].encrypt(nonce, text.encode(), purpose.encode())
        return f"{PREFIX}{self.newest}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, value: str, purpose: str) -> str:
        if not value.startswith(PREFIX):
            return value  # written before sealing: `collections keys reseal` seals it
        key_id, _, encoded = value.removeprefix(PREFIX).partition(":")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise SealError(
                f"{purpose} was sealed with key id {key_id!r}, which is not configured "
                f"(configured: {', '.join(self._ciphers)})"
            )
        try:
            raw = base64.b64decode(encoded, validate=True)
            opened = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode())
        except (binascii.Error, InvalidTag, ValueError):
            raise SealError(f"a value of {purpose} under key id {key_id!r} does not open") from None
        return opened.decode()

    def is_current(self, value: str | None) -> bool:
        """Whether a stored value is sealed under the newest key (None is nothing to seal)."""
        return value is None or value.startswith(f"{PREFIX}{self.newest}:")

    def index(self, value: str) -> str:
        """The blind index of `value` under the newest key."""
        return self._index(self._index_keys[-1], value)

    def indexes(self, value: str) -> list[str]:
        """Its index under every key, newest first: what a lookup matches."""
        return [self._index(key, value) for key in reversed(self._index_keys)]

    @staticmethod
    def _index(key: bytes, value: str) -> str:
        normalised = "".join(value.split()).lower()
        return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


_KEYS: list[DataKeys] = []


def configure(keys: DataKeys | None) -> None:
    """The process's data keys (None: none, and sealing fails closed)."""
    _KEYS[:] = [keys] if keys is not None else []


def current() -> DataKeys:
    if not _KEYS:
        raise MissingDataKeys()
    return _KEYS[0]


class Sealed(TypeDecorator[str]):
    """A text column sealed at rest."""

    impl = Text
    cache_ok = True

    def __init__(self, purpose: str) -> None:
        super().__init__()
        self.purpose = purpose

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else current().seal(value, self.purpose)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else current().open(value, self.purpose)


class SealedJSON(TypeDecorator[Any]):
    """A JSON document sealed at rest (a dossier, an approval's input)."""

    impl = Text
    cache_ok = True

    def __init__(self, purpose: str) -> None:
        super().__init__()
        self.purpose = purpose

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return current().seal(json.dumps(value, ensure_ascii=False), self.purpose)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, dict | list):  # a JSON column's value, before sealing
            return value
        return json.loads(current().open(value, self.purpose))
