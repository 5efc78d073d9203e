# ruff: noqa: F811  (fixtures are imported by name, below)
"""What every answer of the real app carries (security headers), who may read its docs, which
Web UI may call the codec from a browser, and what a request leaves in the access log."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.security import API_CSP, origin_of
from config.logs import JsonFormatter
from config.settings import Settings
from operations.roles import Role
from readmodel.engine import Database
from tests.people import (
    PASSWORD,
    PEOPLE,
    as_role,
    people,  # noqa: F401
    sqlite_db,  # noqa: F401
)

ACCOUNT = "6222000012345678"
NAME = "Wang Xiuying"
PHONE = "13800138000"
UI_URL = "https://temporal.bank.example:8443/namespaces/default/workflows"
UI_ORIGIN = "https://temporal.bank.example:8443"
DOCS = ("/docs", "/redoc", "/openapi.json")

Client = Callable[..., Any]


@pytest.fixture
def client(sqlite_db: Database) -> Client:
    """`client(**settings)`: a browser on the real app over the test people's database."""

    @asynccontextmanager
    async def open_client(**settings: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(Settings(**settings), db=sqlite_db)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http

    return open_client


def assert_protected(answer: httpx.Response, policy: str = API_CSP) -> None:
    assert answer.headers["content-security-policy"] == policy, answer.request.url
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"
    assert answer.headers["cache-control"] == "no-store"


CONSOLE_CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


async def test_only_an_answer_over_https_asks_the_browser_to_stay_on_https(
    sqlite_db: Database,
) -> None:
    app = create_app(Settings(), db=sqlite_db)
    for base, expected in (("https://api", "max-age=31536000"), ("http://api", None)):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base) as http:
            answer = await http.get("/health")
        assert answer.headers.get("strict-transport-security") == expected, base


async def test_console_pages_json_and_errors_all_carry_the_headers(client: Client) -> None:
    async with client() as http:
        app: FastAPI = http.app

        @app.get("/boom")
        async def boom() -> None:
            raise RuntimeError("an unhandled error")

        page = await http.get("/console/signin")
        assert page.status_code == 200 and "<form" in page.text
        assert_protected(page, CONSOLE_CSP)
        me = await http.get("/me", headers=as_role(Role.OPERATIONS))
        assert me.status_code == 200 and me.json()["person_id"] == PEOPLE[Role.OPERATIONS]
        assert_protected(me)
        for answer, status in (
            (await http.get("/me"), 403),
            (await http.get("/no/such/page"), 404),
            (
                await http.post(
                    "/me/tokens", json={"days": "never"}, headers=as_role(Role.OPERATIONS)
                ),
                422,
            ),
            (await http.get("/boom"), 500),
        ):
            assert answer.status_code == status, (answer.request.url, answer.text)
            assert_protected(answer)


async def test_the_console_may_post_forms_to_the_identity_provider(client: Client) -> None:
    """The SSO button is a form whose answer redirects to the provider: a browser applies
    `form-action` to that redirect too."""
    async with client(oidc_issuer="https://login.bank.example/realms/staff") as http:
        page = await http.get("/console/signin")
    assert (
        "form-action 'self' https://login.bank.example;" in page.headers["content-security-policy"]
    )


async def test_a_form_from_this_site_passes_and_an_anonymous_one_does_not(client: Client) -> None:
    """Why `Referrer-Policy: same-origin`, not `no-referrer`: under the latter a browser sends
    `Origin: null` with the console's own forms, and the same-site check refuses them."""
    form = {"staff": PEOPLE[Role.OPERATIONS], "password": PASSWORD, "next": "/console/cases"}
    async with client() as http:
        own = await http.post("/console/signin", data=form, headers={"origin": "http://api"})
        assert own.status_code == 303, own.text
        masked = await http.post("/console/signin", data=form, headers={"origin": "null"})
        assert masked.status_code == 403


async def test_the_docs_need_any_role_unless_public(client: Client) -> None:
    async with client() as http:
        for path in DOCS:
            assert (await http.get(path)).status_code == 403, path
        for role in PEOPLE:
            for path in DOCS:
                answer = await http.get(path, headers=as_role(role))
                assert answer.status_code == 200, (role, path)
        # A person signed in to the console reads them in the same browser.
        form = {"staff": PEOPLE[Role.RISK], "password": PASSWORD, "next": "/console/cases"}
        assert (await http.post("/console/signin", data=form)).status_code == 303
        assert (await http.get("/docs")).status_code == 200
        assert "/cases/{account_no}/timeline" in (await http.get("/openapi.json")).json()["paths"]

    async with client(public_docs=True) as http:
        for path in DOCS:
            assert (await http.get(path)).status_code == 200, path
        swagger = await http.get("/docs")
        redoc = await http.get("/redoc")
    # The docs load their code from FastAPI's CDN: a policy of their own, with Swagger UI's
    # inline start-up script allowed by its hash, not by 'unsafe-inline'.
    policy = swagger.headers["content-security-policy"]
    scripts = next(p for p in policy.split("; ") if p.startswith("script-src"))
    assert "https://cdn.jsdelivr.net" in scripts and "'sha256-" in scripts
    assert "unsafe-inline" not in scripts
    assert "frame-ancestors 'none'" in policy
    assert "worker-src blob:" in redoc.headers["content-security-policy"]
    assert swagger.headers["x-frame-options"] == "DENY"


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace",
    }


async def test_the_codec_admits_the_web_ui_of_temporal_ui_url(client: Client) -> None:
    async with client(temporal_ui_url=UI_URL) as http:
        admitted = await http.options("/codec/decode", headers=preflight(UI_ORIGIN))
        assert admitted.status_code == 200
        assert admitted.headers["access-control-allow-origin"] == UI_ORIGIN
        assert admitted.headers["access-control-allow-credentials"] == "true"
        assert_protected(admitted)
        local = await http.options("/codec/decode", headers=preflight("http://localhost:8233"))
        assert local.headers["access-control-allow-origin"] == "http://localhost:8233"
        for other in ("https://evil.example", "https://temporal.bank.example"):
            refused = await http.options("/codec/decode", headers=preflight(other))
            assert refused.status_code == 400, other
            assert "access-control-allow-origin" not in refused.headers


def test_an_origin_is_what_a_browser_sends() -> None:
    assert origin_of(UI_URL) == UI_ORIGIN
    assert origin_of("HTTPS://Temporal.Bank.Example:443/") == "https://temporal.bank.example"
    assert origin_of("http://[::1]:8233/x") == "http://[::1]:8233"
    assert origin_of("temporal.bank.example") is None
    assert origin_of("https://temporal.bank.example:99999") is None


async def test_the_access_log_names_the_route_not_the_account_or_the_query(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    query = {"name": NAME, "phone": PHONE}
    with caplog.at_level(logging.INFO, logger="api.access"):
        async with client() as http:
            await http.get(f"/cases/{ACCOUNT}/timeline", params=query, headers=as_role(Role.RISK))
            await http.get(f"/console/cases/{ACCOUNT}", params=query)
            await http.post(f"/tasks/case-{ACCOUNT}/review/claim", params=query)
            await http.get(f"/no/such/{ACCOUNT}", params=query)
    records = [r for r in caplog.records if r.name == "api.access"]
    lines = [JsonFormatter().format(r) for r in records]
    assert len(lines) == 4
    for line in lines:
        assert "\n" not in line
        for secret in (ACCOUNT, NAME, "Wang", PHONE, "?", "name="):
            assert secret not in line, (secret, line)
    logged = [json.loads(line) for line in lines]
    assert [(e["method"], e["path"]) for e in logged] == [
        ("GET", "/cases/{account_no}/timeline"),
        ("GET", "/console/cases/{account_no}"),
        ("POST", "/tasks/{task_key}/claim"),
        ("GET", "/no/such/******5678"),
    ]
    for entry in logged:
        assert {"time", "level", "logger", "message", "status", "duration_ms"} <= entry.keys()
        assert entry["logger"] == "api.access" and entry["level"] == "INFO"
    assert logged[3]["status"] == 404
