"""Single sign-on through the real app against a fake OpenID provider on a real port.

The browser's trip is walked by hand: the console (ASGI) sends it to the provider, the provider
(a real httpx client, redirects not followed) sends it back to the callback, and the callback's
session cookie then opens `/me`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import col, select, update

from api.app import create_app
from api.auth import SESSION_COOKIE
from config.settings import Settings
from operations import staff
from readmodel.engine import Database
from readmodel.tables import SignInFlowRow, StaffRow, StaffSessionRow
from tests.fakes.oidc_provider import FakeOidcProvider, Forgery, User
from tests.workflows import harness

sqlite_db = harness.sqlite_db

CLIENT_ID, CLIENT_SECRET = "collections-console", "s3cret-of-the-console"
CALLBACK = "http://console/console/signin/sso/callback"


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeOidcProvider]:
    idp = FakeOidcProvider(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=CALLBACK)
    idp.start()
    yield idp
    idp.stop()


@pytest.fixture
async def app(provider: FakeOidcProvider, sqlite_db: Database) -> object:
    provider.reset()
    settings = Settings(
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=SecretStr(CLIENT_SECRET),
    )
    return create_app(settings, gateway=None, db=sqlite_db)


@pytest.fixture
async def idp_browser() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(follow_redirects=False) as http:
        yield http


def browser(app: object) -> httpx.AsyncClient:
    """A fresh browser on the console: its own cookies."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://console")


async def to_provider(console: httpx.AsyncClient, next_path: str = "/console/tasks") -> str:
    started = await console.get("/console/signin/sso", params={"next": next_path})
    assert started.status_code == 303
    return started.headers["location"]


async def back_from_provider(idp_browser: httpx.AsyncClient, authorize_url: str) -> str:
    approved = await idp_browser.get(authorize_url)
    assert approved.status_code == 302, approved.text
    callback = approved.headers["location"]
    assert callback.startswith(CALLBACK + "?")
    return callback


async def sign_in(
    console: httpx.AsyncClient, idp_browser: httpx.AsyncClient, next_path: str = "/console/tasks"
) -> httpx.Response:
    authorize = await to_provider(console, next_path)
    return await console.get(await back_from_provider(idp_browser, authorize))


async def me(console: httpx.AsyncClient) -> httpx.Response:
    return await console.get("/me")


def assert_refused(answer: httpx.Response) -> None:
    assert answer.status_code == 403
    assert 'data-error="sso_failed"' in answer.text
    assert SESSION_COOKIE not in answer.cookies


async def test_first_sign_in_adds_the_person_with_the_providers_roles(
    app: object, provider: FakeOidcProvider, idp_browser: httpx.AsyncClient, sqlite_db: Database
) -> None:
    provider.user = User("sub-ann", "Ann.Li", name="Ann Li", roles=["collector", "auditor"])
    async with browser(app) as console:
        authorize = await to_provider(console, "/console/cases?stage=early")
        assert authorize.startswith(f"{provider.issuer}/authorize?")
        for part in ("code_challenge_method=S256", "nonce=", "scope=openid+profile+email"):
            assert part in authorize
        done = await console.get(await back_from_provider(idp_browser, authorize))
        assert done.status_code == 303
        assert done.headers["location"] == "/console/cases?stage=early"
        assert SESSION_COOKIE in done.cookies
        who = (await me(console)).json()
    assert who == {
        "person_id": "ann.li",
        "name": "Ann Li",
        "roles": ["operations"],
        "kind": "person",
    }
    row = await staff.find(sqlite_db, "ann.li")
    assert row is not None
    assert (row.oidc_subject, row.password_hash, row.must_change_password) == (
        "sub-ann",
        None,
        False,
    )
    async with sqlite_db.session() as session:
        sessions = list(await session.exec(select(StaffSessionRow)))
        flows = list(await session.exec(select(SignInFlowRow)))
    assert [s.method for s in sessions] == ["oidc"]
    assert flows == []  # the flow is spent


async def test_a_later_sign_in_replaces_the_roles_and_ends_older_sessions(
    app: object, provider: FakeOidcProvider, idp_browser: httpx.AsyncClient
) -> None:
    provider.user = User("sub-bo", "bo.chen", roles=["operations"])
    async with browser(app) as first, browser(app) as second:
        assert (await sign_in(first, idp_browser)).status_code == 303
        assert (await me(first)).json()["roles"] == ["operations"]
        provider.user = User("sub-bo", "bo.chen", roles="supervisor, risk unknown-role")
        assert (await sign_in(second, idp_browser)).status_code == 303
        who = (await me(second)).json()
        assert (who["person_id"], who["name"]) == ("bo.chen", "bo.chen")
        assert who["roles"] == ["risk", "supervisor"]
        assert (await me(first)).status_code == 403  # signed in under the old roles


async def test_a_directory_person_is_bound_to_the_providers_subject(
    app: object, provider: FakeOidcProvider, idp_browser: httpx.AsyncClient, sqlite_db: Database
) -> None:
    await staff.add(sqlite_db, "cy.wang", name="Cy Wang", roles=["legal"])
    provider.user = User("sub-cy", "cy.wang", name="Someone Else", roles=["engineer"])
    async with browser(app) as console:  # a one-time password still open: changed first
        done = await sign_in(console, idp_browser)
        assert done.headers["location"] == "/console/password?next=/console/tasks"
    async with sqlite_db.session() as session:  # as if the one-time password had been changed
        await session.exec(
            update(StaffRow)
            .where(col(StaffRow.person_id) == "cy.wang")
            .values(must_change_password=False)
        )
    async with browser(app) as console:
        assert (await sign_in(console, idp_browser)).status_code == 303
        who = (await me(console)).json()
    assert (who["name"], who["roles"]) == ("Cy Wang", ["engineer"])
    row = await staff.find(sqlite_db, "cy.wang")
    assert row is not None and row.oidc_subject == "sub-cy"


async def test_a_disabled_person_is_refused(
    app: object, provider: FakeOidcProvider, idp_browser: httpx.AsyncClient, sqlite_db: Database
) -> None:
    await staff.add(sqlite_db, "dan.wu", name="Dan Wu", roles=["operations"])
    await staff.set_active(sqlite_db, "dan.wu", False)
    provider.user = User("sub-dan", "dan.wu", roles=["admin"])
    async with browser(app) as console:
        assert_refused(await sign_in(console, idp_browser))
        assert (await me(console)).status_code == 403
    row = await staff.find(sqlite_db, "dan.wu")
    assert row is not None and (row.roles, row.oidc_subject) == ("operations", None)


@pytest.mark.parametrize(
    "forgery",
    [
        Forgery(other_key=True),
        Forgery(claims={"aud": "another-client"}),
        Forgery(claims={"nonce": "not-the-flows-nonce"}),
        Forgery(claims={"iss": "https://elsewhere.example"}),
        Forgery(claims={"exp": 1_000_000_000}),
    ],
    ids=["other-key", "other-audience", "other-nonce", "other-issuer", "expired"],
)
async def test_a_bad_id_token_is_refused(
    app: object, provider: FakeOidcProvider, idp_browser: httpx.AsyncClient, forgery: Forgery
) -> None:
    provider.user = User("sub-eve", "eve.ma", roles=["admin"])
    provider.forgery = forgery
    async with browser(app) as console:
        assert_refused(await sign_in(console, idp_browser))
        assert (await me(console)).status_code == 403


async def test_an_unknown_key_id_fetches_the_jwks_once_more(
    app: object, provider: FakeOidcProvider, idp_browser: httpx.AsyncClient
) -> None:
    provider.user = User("sub-fay", "fay.he", roles=["risk"])
    async with browser(app) as console:
        assert (await sign_in(console, idp_browser)).status_code == 303  # keys cached
        provider.forgery = Forgery(other_key=True, kid="never-published")
        fetched = provider.jwks_requests
        assert_refused(await sign_in(console, idp_browser))
        assert provider.jwks_requests == fetched + 1
        provider.forgery = None
        provider.rotate_key("key-rotated")
        assert (await sign_in(console, idp_browser)).status_code == 303
        assert provider.jwks_requests == fetched + 2
        assert (await me(console)).json()["person_id"] == "fay.he"


async def test_an_unknown_replayed_or_stale_state_is_refused(
    app: object, provider: FakeOidcProvider, idp_browser: httpx.AsyncClient, sqlite_db: Database
) -> None:
    provider.user = User("sub-gus", "gus.lu", roles=["legal"])
    async with browser(app) as console:
        unknown = await console.get(
            "/console/signin/sso/callback", params={"state": "made-up", "code": "x"}
        )
        assert_refused(unknown)
        callback = await back_from_provider(idp_browser, await to_provider(console))
        assert (await console.get(callback)).status_code == 303
        assert_refused(await console.get(callback))  # the same answer again
        authorize = await to_provider(console)
        async with sqlite_db.session() as session:
            await session.exec(
                update(SignInFlowRow).values(created_at=datetime.now(UTC) - timedelta(minutes=11))
            )
        assert_refused(await console.get(await back_from_provider(idp_browser, authorize)))
        denied = await console.get(
            "/console/signin/sso/callback", params={"state": "s", "error": "access_denied"}
        )
        assert_refused(denied)


async def test_no_known_role_is_refused(
    app: object, provider: FakeOidcProvider, idp_browser: httpx.AsyncClient, sqlite_db: Database
) -> None:
    provider.user = User("sub-hal", "hal.xu", roles=["auditor", "viewer"])
    async with browser(app) as console:
        assert_refused(await sign_in(console, idp_browser))
    assert await staff.find(sqlite_db, "hal.xu") is None


async def test_a_staff_id_held_by_another_subject_is_refused(
    app: object, provider: FakeOidcProvider, idp_browser: httpx.AsyncClient, sqlite_db: Database
) -> None:
    provider.user = User("sub-ivy", "ivy.qi", roles=["operations"])
    async with browser(app) as console:
        assert (await sign_in(console, idp_browser)).status_code == 303
    provider.user = User("sub-impostor", "IVY.QI", roles=["admin"])
    async with browser(app) as console:
        assert_refused(await sign_in(console, idp_browser))
    row = await staff.find(sqlite_db, "ivy.qi")
    assert row is not None and (row.oidc_subject, row.roles) == ("sub-ivy", "operations")


async def test_a_username_that_is_no_staff_id_is_refused(
    app: object, provider: FakeOidcProvider, idp_browser: httpx.AsyncClient
) -> None:
    provider.user = User("sub-jo", "jo@bank.example", roles=["operations"])
    async with browser(app) as console:
        assert_refused(await sign_in(console, idp_browser))


async def test_without_an_issuer_there_is_no_single_sign_on(sqlite_db: Database) -> None:
    async with browser(create_app(Settings(), gateway=None, db=sqlite_db)) as console:
        assert (await console.get("/console/signin/sso")).status_code == 404
        assert 'action="/console/signin/sso"' not in (await console.get("/console/signin")).text


async def test_a_failed_code_exchange_is_refused(
    provider: FakeOidcProvider, idp_browser: httpx.AsyncClient, sqlite_db: Database
) -> None:
    provider.reset()
    provider.user = User("sub-kit", "kit.yu", roles=["operations"])
    settings = Settings(
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=SecretStr("not-the-secret"),
    )
    async with browser(create_app(settings, gateway=None, db=sqlite_db)) as console:
        assert_refused(await sign_in(console, idp_browser))
