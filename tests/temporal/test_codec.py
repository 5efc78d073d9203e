"""Payload encryption: what reaches Temporal is ciphertext, and rotation strands nothing."""

from __future__ import annotations

import base64
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload

from config.settings import Settings
from temporal.client import data_converter
from temporal.codec import (
    ENCODING,
    KEY_ID,
    CodecError,
    EncryptionCodec,
    codec_from_settings,
    generate_key,
    load_or_create_local_key,
)

K1 = ("k1", bytes(range(32)))
K2 = ("k2", bytes(range(32, 64)))
NAME = "Wang Xiuying"
PHONE = "+8613800138000"


@dataclass(frozen=True)
class Debtor:
    name: str
    phone: str
    balance_minor: int


DEBTOR = Debtor(name=NAME, phone=PHONE, balance_minor=1_234_500)


def to_payloads(*values: object) -> list[Payload]:
    return data_converter().payload_converter.to_payloads(values)


async def test_round_trip_restores_payload_and_metadata() -> None:
    codec = EncryptionCodec([K1])
    plain = to_payloads(DEBTOR, "second argument", None)

    encrypted = await codec.encode(plain)
    decoded = await codec.decode(encrypted)

    assert decoded == plain
    assert data_converter().payload_converter.from_payloads(decoded, [Debtor, str, type(None)]) == [
        DEBTOR,
        "second argument",
        None,
    ]


async def test_ciphertext_shows_no_personal_data_nor_its_encoding() -> None:
    codec = EncryptionCodec([K1])

    [encrypted] = await codec.encode(to_payloads(DEBTOR))

    stored = encrypted.SerializeToString()
    for secret in (NAME.encode(), PHONE.encode(), b"13800138000", b"json/plain"):
        assert secret not in stored
    assert dict(encrypted.metadata) == {"encoding": ENCODING, KEY_ID: b"k1"}


async def test_each_encoding_uses_a_fresh_nonce() -> None:
    codec = EncryptionCodec([K1])
    plain = to_payloads(DEBTOR)

    first, second = await codec.encode(plain), await codec.encode(plain)

    assert first[0].data != second[0].data


async def test_rotation_old_payloads_decode_and_new_ones_use_the_newest_key() -> None:
    old = await EncryptionCodec([K1]).encode(to_payloads(DEBTOR))
    rotated = EncryptionCodec([K1, K2])

    assert await rotated.decode(old) == to_payloads(DEBTOR)
    new = await rotated.encode(to_payloads(DEBTOR))
    assert new[0].metadata[KEY_ID] == b"k2"
    with pytest.raises(CodecError, match="'k2'"):
        await EncryptionCodec([K1]).decode(new)


async def test_payloads_not_marked_encrypted_pass_through_decode() -> None:
    plain = to_payloads(DEBTOR, 7)

    assert await EncryptionCodec([K1]).decode(plain) == plain


@pytest.mark.parametrize("position", [0, 12, -1], ids=["nonce", "ciphertext", "tag"])
async def test_tampered_ciphertext_fails(position: int) -> None:
    codec = EncryptionCodec([K1])
    [encrypted] = await codec.encode(to_payloads(DEBTOR))
    data = bytearray(encrypted.data)
    data[position] ^= 0x01
    tampered = Payload(metadata=encrypted.metadata, data=bytes(data))

    with pytest.raises(CodecError, match="'k1' failed authentication"):
        await codec.decode([tampered])


async def test_truncated_ciphertext_fails() -> None:
    codec = EncryptionCodec([K1])
    [encrypted] = await codec.encode(to_payloads(DEBTOR))

    with pytest.raises(CodecError, match="failed authentication"):
        await codec.decode([Payload(metadata=encrypted.metadata, data=encrypted.data[:5])])


async def test_unknown_key_id_is_named_and_content_is_not() -> None:
    [encrypted] = await EncryptionCodec([("retired", os.urandom(32))]).encode(to_payloads(DEBTOR))

    with pytest.raises(CodecError) as raised:
        await EncryptionCodec([K1, K2]).decode([encrypted])

    message = str(raised.value)
    assert "'retired'" in message
    assert "k1, k2" in message
    assert NAME not in message
    assert PHONE not in message


def test_keys_must_be_256_bit_and_ids_unique() -> None:
    with pytest.raises(ValueError, match="'short' has 16 bytes"):
        EncryptionCodec([("short", bytes(16))])
    with pytest.raises(ValueError, match="'k1' is configured twice"):
        EncryptionCodec([K1, ("k1", K2[1])])
    with pytest.raises(ValueError, match="at least one key"):
        EncryptionCodec([])


async def test_codec_from_settings_uses_the_last_key_for_new_payloads() -> None:
    settings = Settings(
        payload_keys=(
            ("k1", SecretStr(base64.b64encode(K1[1]).decode())),
            ("k2", SecretStr(generate_key())),
        )
    )

    codec = codec_from_settings(settings)

    assert codec is not None
    assert codec.key_ids == ("k1", "k2")
    assert codec.key_id == "k2"
    old = await EncryptionCodec([K1]).encode(to_payloads(DEBTOR))
    assert await codec.decode(old) == to_payloads(DEBTOR)


def test_codec_from_settings_without_keys_is_none() -> None:
    assert codec_from_settings(Settings()) is None


def test_codec_from_settings_names_the_bad_key_not_its_value() -> None:
    settings = Settings(payload_keys=(("bad", SecretStr("not*base64")),))

    with pytest.raises(ValueError, match="'bad' is not valid base64") as raised:
        codec_from_settings(settings)
    assert "not*base64" not in str(raised.value)


def test_generated_keys_are_random_256_bit_base64() -> None:
    first, second = generate_key(), generate_key()

    assert len(base64.b64decode(first, validate=True)) == 32
    assert first != second


def test_local_key_is_created_private_and_reused(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"

    key_id, key = load_or_create_local_key(var_dir)

    assert key_id.startswith("local-")
    assert len(key) == 32
    key_file = next(var_dir.iterdir())
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert list(var_dir.iterdir()) == [key_file]
    assert load_or_create_local_key(var_dir) == (key_id, key)


def test_a_damaged_local_key_file_is_reported(tmp_path: Path) -> None:
    load_or_create_local_key(tmp_path)
    key_file = next(tmp_path.iterdir())
    key_file.write_text("local-x:c2hvcnQ=\n")

    with pytest.raises(ValueError, match="32-byte key"):
        load_or_create_local_key(tmp_path)
