# ruff: noqa: F811  (fixtures are imported by name, below)
"""The codec endpoint as the Temporal CLI and Web UI call it: engineers only, each decode on
record in the access log."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from google.protobuf import json_format
from pydantic import SecretStr
from sqlmodel import select
from temporalio.api.common.v1 import Payload, Payloads

from api.routes.codec import codec_cors, router, ui_origins
from config.settings import Settings
from operations.roles import Role
from readmodel.engine import Database
from readmodel.tables import AccessLogRow
from temporal.client import data_converter
from temporal.codec import EncryptionCodec
from tests.people import (
    PEOPLE,
    as_role,
    people,  # noqa: F401
    sqlite_db,  # noqa: F401
)

KEY = ("k1", bytes(range(32)))
CASE = {"account_no": "6222-0001", "name": "Wang Xiuying", "phone": "+8613800138000"}
UI_ORIGIN = "http://localhost:8233"


def make_settings(*, payload_keys: bool = True) -> Settings:
    return Settings(
        payload_keys=((KEY[0], SecretStr(base64.b64encode(KEY[1]).decode())),)
        if payload_keys
        else (),
    )


def make_app(settings: Settings, db: Database) -> FastAPI:
    """The codec routes alone, over a database that knows the test people."""
    app = FastAPI()
    app.state.settings = settings
    app.state.db = db
    app.include_router(router)
    codec_cors(app, ui_origins(settings))
    return app


def engineer() -> dict[str, str]:
    return as_role(Role.ENGINEER)


def engineer_token() -> str:
    return engineer()["X-API-Key"]


@pytest.fixture
async def client(sqlite_db: Database) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(make_settings(), sqlite_db))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        yield http


def as_json(payloads: list[Payload]) -> dict[str, Any]:
    """The body the CLI and UI send: Payloads as protobuf JSON, bytes in base64."""
    return json_format.MessageToDict(Payloads(payloads=payloads))


def from_json(body: dict[str, Any]) -> list[Payload]:
    return list(json_format.ParseDict(body, Payloads()).payloads)


async def encrypted_case() -> list[Payload]:
    plain = data_converter().payload_converter.to_payloads([CASE])
    return await EncryptionCodec([KEY]).encode(plain)


async def test_an_engineer_decodes_on_record(
    client: httpx.AsyncClient, sqlite_db: Database
) -> None:
    body = as_json(await encrypted_case())
    assert body["payloads"][0]["metadata"]["encoding"] == "YmluYXJ5L2VuY3J5cHRlZA=="  # base64

    response = await client.post(
        "/codec/decode", json=body, headers={**engineer(), "X-Namespace": "default"}
    )

    assert response.status_code == 200
    decoded = from_json(response.json())
    assert data_converter().payload_converter.from_payloads(decoded) == [CASE]
    assert base64.b64decode(response.json()["payloads"][0]["metadata"]["encoding"]) == b"json/plain"
    async with sqlite_db.session() as session:
        looked = list(await session.exec(select(AccessLogRow)))
    assert [(r.person_id, r.via, r.what, r.reason) for r in looked] == [
        (PEOPLE[Role.ENGINEER], "api", "payloads", "payloads decoded")
    ]


async def test_a_bearer_token_is_accepted_as_the_cli_sends_it(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/codec/decode",
        json=as_json(await encrypted_case()),
        headers={"Authorization": f"Bearer {engineer_token()}"},
    )

    assert response.status_code == 200


async def test_encode_returns_payloads_only_the_codec_can_read(client: httpx.AsyncClient) -> None:
    plain = data_converter().payload_converter.to_payloads([CASE])

    response = await client.post("/codec/encode", json=as_json(plain), headers=engineer())

    assert response.status_code == 200
    assert "Wang Xiuying" not in response.text
    encoded = from_json(response.json())
    assert encoded[0].metadata["encoding"] == b"binary/encrypted"
    assert await EncryptionCodec([KEY]).decode(encoded) == plain


async def test_a_collector_is_forbidden(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/codec/decode", json=as_json(await encrypted_case()), headers=as_role(Role.OPERATIONS)
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "only these roles may call this: engineer"}


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-API-Key": "guess"}, {"Authorization": "Bearer guess"}, {"Authorization": "Basic x"}],
    ids=["none", "unknown-header", "unknown-bearer", "not-bearer"],
)
async def test_a_missing_or_unknown_token_is_unauthorized(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    for path in ("/codec/decode", "/codec/encode"):
        response = await client.post(path, json={"payloads": []}, headers=headers)

        assert response.status_code == 403
        assert "sign in" in response.json()["detail"]
        assert "API token" in response.json()["detail"]


async def test_unknown_key_id_is_a_400_naming_the_key(client: httpx.AsyncClient) -> None:
    plain = data_converter().payload_converter.to_payloads([CASE])
    foreign = await EncryptionCodec([("retired", bytes(32))]).encode(plain)

    response = await client.post("/codec/decode", json=as_json(foreign), headers=engineer())

    assert response.status_code == 400
    assert "'retired'" in response.json()["detail"]
    assert "Wang" not in response.text


async def test_invalid_json_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/codec/decode",
        content=b'{"payloads": [{"data": "not base64!"}]}',
        headers={**engineer(), "Content-Type": "application/json"},
    )

    assert response.status_code == 400


async def test_unencrypted_payloads_come_back_unchanged(client: httpx.AsyncClient) -> None:
    body = as_json(data_converter().payload_converter.to_payloads(["plain", 3]))

    response = await client.post("/codec/decode", json=body, headers=engineer())

    assert response.json() == body


async def test_codec_is_built_from_settings_once_and_kept(sqlite_db: Database) -> None:
    app = make_app(make_settings(), sqlite_db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        await http.post("/codec/decode", json={"payloads": []}, headers=engineer())
        codec = app.state.codec
        await http.post("/codec/decode", json={"payloads": []}, headers=engineer())

    assert isinstance(codec, EncryptionCodec)
    assert app.state.codec is codec


async def test_without_payload_keys_the_endpoint_says_so(sqlite_db: Database) -> None:
    transport = httpx.ASGITransport(app=make_app(make_settings(payload_keys=False), sqlite_db))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        anonymous = await http.post("/codec/decode", json={"payloads": []})
        signed = await http.post("/codec/decode", json={"payloads": []}, headers=engineer())

    assert anonymous.status_code == 403
    assert signed.status_code == 503
    assert "PAYLOAD_KEYS" in signed.json()["detail"]


async def test_web_ui_preflight_is_allowed(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/codec/decode",
        headers={
            "Origin": UI_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace,authorization",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == UI_ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    allowed = response.headers["access-control-allow-headers"].lower()
    for header in ("content-type", "x-namespace", "authorization"):
        assert header in allowed


async def test_web_ui_post_carries_cors_headers(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/codec/decode",
        json=as_json(await encrypted_case()),
        headers={"Origin": "http://127.0.0.1:8233", **engineer()},
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://127.0.0.1:8233"


async def test_other_origins_and_other_paths_get_no_cors(client: httpx.AsyncClient) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    stranger = await client.options(
        "/codec/decode", headers={"Origin": "http://evil.example", **preflight}
    )
    elsewhere = await client.options("/cases", headers={"Origin": UI_ORIGIN, **preflight})

    assert stranger.status_code == 400
    assert "access-control-allow-origin" not in stranger.headers
    assert "access-control-allow-origin" not in elsewhere.headers
