# ruff: noqa: F811  (fixtures are imported by name, below)
"""Request bodies past their ceiling get 413 and are never read whole; the app's own routes
(an action, the codec) take what fits."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.types import Message

from api.app import create_app
from api.limits import MAX_BODY, BodyLimit
from config.settings import Settings
from operations.roles import Role
from readmodel.engine import Database
from tests.people import (
    as_role,
    people,  # noqa: F401
    sqlite_db,  # noqa: F401
)

LIMIT = 1_000
CODEC_LIMIT = 5_000


def small_app() -> tuple[FastAPI, list[int]]:
    """An app that records the size of every body that reaches it."""
    app = FastAPI()
    seen: list[int] = []

    @app.post("/cases/{account}/pause")
    async def pause(request: Request) -> dict[str, int]:
        seen.append(len(await request.body()))
        return {"read": seen[-1]}

    @app.post("/codec/decode")
    async def decode(request: Request) -> dict[str, int]:
        seen.append(len(await request.body()))
        return {"read": seen[-1]}

    app.add_middleware(BodyLimit, limit=LIMIT, codec_limit=CODEC_LIMIT)
    return app, seen


@pytest.fixture
async def limited() -> AsyncIterator[tuple[httpx.AsyncClient, list[int]]]:
    app, seen = small_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        yield http, seen


async def chunks(total: int, size: int = 300) -> AsyncIterator[bytes]:
    """A chunked body: it declares no length."""
    while total > 0:
        yield b"x" * min(size, total)
        total -= size


async def test_a_body_at_the_ceiling_is_read_whole(
    limited: tuple[httpx.AsyncClient, list[int]],
) -> None:
    http, seen = limited
    response = await http.post("/cases/6222/pause", content=b"x" * LIMIT)
    assert response.status_code == 200 and response.json() == {"read": LIMIT}
    chunked = await http.post("/cases/6222/pause", content=chunks(LIMIT))
    assert chunked.status_code == 200 and chunked.json() == {"read": LIMIT}
    assert seen == [LIMIT, LIMIT]


async def test_a_declared_or_chunked_body_past_the_ceiling_is_413_and_never_reaches_the_app(
    limited: tuple[httpx.AsyncClient, list[int]],
) -> None:
    http, seen = limited
    declared = await http.post("/cases/6222/pause", content=b"x" * (LIMIT + 1))
    chunked = await http.post("/cases/6222/pause", content=chunks(LIMIT * 50))
    for response in (declared, chunked):
        assert response.status_code == 413
        assert response.json() == {"detail": f"the request body is larger than {LIMIT} bytes"}
    assert seen == []


async def test_the_codec_takes_a_history_sized_body_up_to_its_own_ceiling(
    limited: tuple[httpx.AsyncClient, list[int]],
) -> None:
    http, seen = limited
    fits = await http.post("/codec/decode", content=b"x" * CODEC_LIMIT)
    assert fits.status_code == 200 and fits.json() == {"read": CODEC_LIMIT}
    past = await http.post("/codec/decode", content=b"x" * (CODEC_LIMIT + 1))
    assert past.status_code == 413
    assert seen == [CODEC_LIMIT]


async def test_a_content_length_that_is_not_a_number_is_400() -> None:
    app, seen = small_app()
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/cases/6222/pause",
        "raw_path": b"/cases/6222/pause",
        "query_string": b"",
        "headers": [(b"content-length", b"-5")],
        "server": ("api", 80),
        "client": ("127.0.0.1", 1),
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 400
    assert b"Content-Length" in sent[1]["body"]
    assert seen == []


async def test_the_api_refuses_an_oversized_action_before_it_reaches_a_case(
    sqlite_db: Database,
) -> None:
    """The real app: a pause whose reason is a quarter of a megabyte never becomes an update
    (no Temporal client is needed to say so), and the answer does not echo it."""
    app = create_app(Settings(), db=sqlite_db)
    transport = httpx.ASGITransport(app=app)
    reason = "Wang Xiuying " * (MAX_BODY // 10)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        response = await http.post(
            "/cases/6222000000000001/pause",
            json={"reason": reason},
            headers=as_role(Role.OPERATIONS),
        )
    assert response.status_code == 413
    assert "Wang" not in response.text


async def test_an_api_that_has_not_reached_temporal_yet_asks_to_retry_later(
    sqlite_db: Database,
) -> None:
    """Started before Temporal answered once: a case action is 503 with `Retry-After`, as
    every 503 for an engine that cannot answer now."""
    app = create_app(Settings(), db=sqlite_db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        response = await http.post(
            "/cases/6222000000000001/pause",
            json={"reason": "customer asked"},
            headers=as_role(Role.OPERATIONS),
        )
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
