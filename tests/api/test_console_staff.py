# ruff: noqa: F811  (fixtures are imported by name, below)
"""The console's accounts pages through the real app: an admin's staff directory (a one-time
password shown once, disabling a person ends their session at once), everyone's own API tokens,
and, against the real case workflow on the time-skipping server, a customer's contact details
revealed with a reason and recorded, and a write-off asked by one supervisor and approved by
another on the approvals page."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from urllib.parse import unquote

import httpx
import pytest
from fastapi import FastAPI

from api import app as api_app
from api.console.pages import FLASH_COOKIE
from models.contracts import Stage
from operations import access, approvals
from operations.gateway import Gateway
from operations.roles import Role
from readmodel.engine import Database
from tests.api.test_cases_api import at_rest
from tests.staffing import PASSWORD, PEOPLE, Staffed, add_person, seed_staff
from tests.workflows.harness import (
    CaseHarness,
    fake_twilio,  # noqa: F401
    harness,  # noqa: F401
    sqlite_db,  # noqa: F401
)
from tests.workflows.harness import test_settings as settings_for
from workflows.case import CollectionCaseWorkflow as Case

ADMIN, COLLECTOR, SUPERVISOR = PEOPLE[Role.ADMIN], PEOPLE[Role.OPERATIONS], PEOPLE[Role.SUPERVISOR]
NEW_PASSWORD = "a password of ann's own"


@pytest.fixture
async def staffed(sqlite_db: Database) -> Staffed:
    return await seed_staff(sqlite_db)


@pytest.fixture
def app(sqlite_db: Database, staffed: Staffed) -> FastAPI:
    """The app without Temporal: the accounts pages need only the database."""
    return api_app.create_app(settings_for("unused"), db=sqlite_db)


@pytest.fixture
def case_app(harness: CaseHarness, staffed: Staffed) -> FastAPI:
    settings = settings_for(harness.queue)
    gateway = Gateway(harness.client, answer_within=settings.answer_timeout_seconds)
    return api_app.create_app(settings, gateway=gateway, db=harness.db)


def browser(app: FastAPI) -> httpx.AsyncClient:
    """A fresh browser: its own cookies."""
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://console")


async def sign_in(
    client: httpx.AsyncClient, person: str, password: str = PASSWORD, to: str = "/console/cases"
) -> httpx.Response:
    return await client.post(
        "/console/signin", data={"staff": person, "password": password, "next": to}
    )


@contextlib.asynccontextmanager
async def signed_in(app: FastAPI, person: str) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(app) as client:
        answer = await sign_in(client, person)
        assert answer.status_code == 303, answer.text
        yield client


def shown(page: httpx.Response, marker: str) -> str:
    """The text of the element carrying `marker` (`data-one-time-password` ...)."""
    found = re.search(
        rf"<(\w+)[^>]*(?<![\w-]){re.escape(marker)}(?![\w-])[^>]*>([^<]*)</\1>", page.text
    )
    assert found, f"no {marker} on the page"
    return found.group(2).strip()


def flash(answer: httpx.Response) -> str:
    """The message a post/redirect/get answer leaves for the next page."""
    assert answer.status_code == 303, answer.text
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(FLASH_COOKIE))
    return unquote(cookie.split(";")[0].split("=", 1)[1])


def sent_to_sign_in(answer: httpx.Response) -> bool:
    return answer.status_code == 303 and answer.headers["location"].startswith("/console/signin")


# --- the staff directory -------------------------------------------------------------------------


async def test_an_admin_adds_a_person_whose_one_time_password_is_shown_once(
    app: FastAPI,
) -> None:
    async with browser(app) as admin:
        landed = await sign_in(admin, ADMIN)
        assert landed.headers["location"] == "/console/staff"  # an admin opens no case
        page = await admin.get("/console/staff")
        assert page.status_code == 200
        assert set(re.findall(r'data-person="([^"]+)"', page.text)) == set(PEOPLE.values())
        assert 'data-nav="staff"' in page.text and 'data-nav="tokens"' in page.text

        added = await admin.post(
            "/console/staff",
            data={
                "kind": "person",
                "person_id": "Ann.Li",
                "name": "Ann Li",
                "roles": ["operations", "supervisor"],
                "team": "east",
                "languages": "zh, en",
            },
        )
        assert added.status_code == 200, added.text
        one_time = shown(added, "data-one-time-password")
        assert len(one_time) >= 12
        # On this page alone: not in a header (a redirect, a cookie), not stored for later.
        assert all(one_time not in value for value in added.headers.values())
        assert added.headers["cache-control"] == "no-store"
        again = await admin.get("/console/staff")
        assert one_time not in again.text
        row = re.search(r'<tr data-person="ann.li" data-active="yes">.*?</tr>', again.text, re.S)
        assert row and "Ann Li" in row.group(0) and "east" in row.group(0)
        assert 'data-roles="operations,supervisor"' in row.group(0)

        twice = await admin.post(
            "/console/staff", data={"person_id": "ann.li", "name": "Ann", "roles": ["operations"]}
        )
        assert twice.status_code == 400
        assert "ann.li is already in the directory" in shown(twice, 'data-error="add"')
        roleless = await admin.post("/console/staff", data={"person_id": "bo.li", "name": "Bo"})
        assert roleless.status_code == 400 and "at least one role" in roleless.text
        assert 'value="bo.li"' in roleless.text  # what was typed is kept

    async with browser(app) as ann:
        first = await sign_in(ann, "ann.li", one_time, to="/console/tasks")
        assert (first.status_code, first.headers["location"]) == (
            303,
            "/console/password?next=/console/tasks",
        )
        held = await ann.get("/console/tasks")
        assert held.status_code == 303 and held.headers["location"].startswith("/console/password")
        changed = await ann.post(
            "/console/password",
            data={"current": one_time, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        )
        assert changed.status_code == 303, changed.text
        tasks = await ann.get("/console/tasks")
        assert tasks.status_code == 200 and shown(tasks, "data-staff") == "ann.li"
        assert 'data-nav="approvals"' in tasks.text  # a supervisor too

    async with signed_in(app, ADMIN) as admin:
        reset = await admin.post("/console/staff/ann.li/password")
        assert reset.status_code == 200
        assert shown(reset, "data-one-time-password") not in (one_time, NEW_PASSWORD)
    async with browser(app) as ann:
        assert (await sign_in(ann, "ann.li", NEW_PASSWORD)).status_code == 403


async def test_only_an_admin_opens_the_staff_page(app: FastAPI) -> None:
    for role in (Role.OPERATIONS, Role.SUPERVISOR, Role.ENGINEER):
        async with signed_in(app, PEOPLE[role]) as someone:
            page = await someone.get("/console/staff")
            assert page.status_code == 403 and "data-forbidden" in page.text
            tried = await someone.post(
                "/console/staff", data={"person_id": "eve.x", "name": "Eve", "roles": ["admin"]}
            )
            assert tried.status_code == 403
            disabled = await someone.post(f"/console/staff/{ADMIN}/active", data={"active": "off"})
            assert disabled.status_code == 403
            home = await someone.get("/console/tokens")
            assert 'data-nav="staff"' not in home.text and 'data-nav="tokens"' in home.text
    async with signed_in(app, ADMIN) as admin:
        assert 'data-person="eve.x"' not in (await admin.get("/console/staff")).text
        assert (
            f'data-person="{ADMIN}" data-active="yes"' in (await admin.get("/console/staff")).text
        )


async def test_disabling_a_person_ends_their_session_and_tokens_at_once(
    app: FastAPI, staffed: Staffed
) -> None:
    async with signed_in(app, COLLECTOR) as ann, signed_in(app, ADMIN) as admin:
        assert (await ann.get("/console/tokens")).status_code == 200
        token = staffed.headers(Role.OPERATIONS)
        assert (await ann.get("/me", headers=token)).status_code == 200

        answer = await admin.post(f"/console/staff/{COLLECTOR}/active", data={"active": "off"})
        assert flash(answer).startswith(f"{COLLECTOR}: ")
        assert sent_to_sign_in(await ann.get("/console/tokens"))
        assert (await ann.get("/me", headers=token)).status_code == 403
        assert (await sign_in(ann, COLLECTOR)).status_code == 403
        page = await admin.get("/console/staff")
        assert f'data-person="{COLLECTOR}" data-active="no"' in page.text

        # Nor can an admin lock themselves out.
        alone = await admin.post(f"/console/staff/{ADMIN}/active", data={"active": "off"})
        assert alone.status_code == 400 and "cannot disable yourself" in alone.text

        await admin.post(f"/console/staff/{COLLECTOR}/active", data={"active": "on"})
        assert (await sign_in(ann, COLLECTOR)).status_code == 303
        # New roles end the session too: the next page is opened with the roles it has now.
        roles = await admin.post(f"/console/staff/{COLLECTOR}/roles", data={"roles": ["risk"]})
        assert flash(roles).startswith(f"{COLLECTOR}: ")
        assert sent_to_sign_in(await ann.get("/console/tokens"))
        await sign_in(ann, COLLECTOR)
        assert (await ann.get("/console/tasks")).status_code == 403


# --- one's own tokens ----------------------------------------------------------------------------


async def test_a_token_made_on_the_tokens_page_works_on_the_api_until_revoked(
    app: FastAPI, staffed: Staffed
) -> None:
    async with signed_in(app, COLLECTOR) as ann, browser(app) as api:
        made = await ann.post("/console/tokens", data={"name": "laptop scripts", "days": "30"})
        assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
        token = shown(made, "data-new-token")
        me = await api.get("/me", headers={"X-API-Key": token})
        assert me.status_code == 200 and me.json()["person_id"] == COLLECTOR

        listed = await ann.get("/console/tokens")
        token_id = token.removeprefix("col_").split("_")[0]
        assert f'data-token="{token_id}" data-revoked="no"' in listed.text
        assert token not in listed.text and "laptop scripts" in listed.text

        too_long = await ann.post("/console/tokens", data={"name": "x", "days": "367"})
        assert too_long.status_code == 400 and "1 to 366 days" in too_long.text
        nameless = await ann.post("/console/tokens", data={"name": " ", "days": "3"})
        assert nameless.status_code == 400 and "needs a name" in nameless.text

        # Someone else's token is not theirs to revoke.
        sams = staffed.tokens[Role.SUPERVISOR].removeprefix("col_").split("_")[0]
        other = await ann.post(f"/console/tokens/{sams}/revoke")
        assert "no live token" in flash(other)
        assert (await api.get("/me", headers=staffed.headers(Role.SUPERVISOR))).status_code == 200

        revoked = await ann.post(f"/console/tokens/{token_id}/revoke")
        assert token_id in flash(revoked)
        assert (await api.get("/me", headers={"X-API-Key": token})).status_code == 403
        listed = await ann.get("/console/tokens")
        assert f'data-token="{token_id}" data-revoked="yes"' in listed.text


async def test_an_admin_makes_a_service_accounts_token_shown_once(app: FastAPI) -> None:
    async with signed_in(app, ADMIN) as admin, browser(app) as api:
        added = await admin.post(
            "/console/staff",
            data={
                "kind": "service",
                "person_id": "svc-intake",
                "name": "Intake",
                "roles": ["operations"],
            },
        )
        assert added.status_code == 200 and 'data-shown="service_added"' in added.text
        assert "data-one-time-password" not in added.text
        made = await admin.post(
            "/console/staff/svc-intake/token", data={"name": "intake", "days": "7"}
        )
        token = shown(made, "data-new-token")
        me = await api.get("/me", headers={"X-API-Key": token})
        assert me.json() == {
            "person_id": "svc-intake",
            "name": "Intake",
            "roles": ["operations"],
            "kind": "service",
        }
        people = await admin.post(f"/console/staff/{COLLECTOR}/token", data={"name": "x"})
        assert people.status_code == 400 and "not a service account" in people.text


# --- a case's contact details and approvals ------------------------------------------------------


async def started(harness: CaseHarness) -> str:
    handle = await harness.start(dpd=12)
    account = handle.id.removeprefix("case-")
    await at_rest(harness, account)
    return account


async def test_contact_details_are_shown_with_a_reason_and_the_look_is_recorded(
    case_app: FastAPI, harness: CaseHarness
) -> None:
    account = await started(harness)
    reveal = f"/console/cases/{account}/contact-details"
    async with signed_in(case_app, COLLECTOR) as ann:
        page = await ann.get(f"/console/cases/{account}")
        assert 'data-form="contact-details"' in page.text
        assert "张伟" not in page.text and "+86138" not in page.text
        assert "data-who-saw" not in page.text  # the record is the supervisors'

        for blank in ({"reason": ""}, {"reason": "other", "other_reason": "  "}):
            refused = await ann.post(reveal, data=blank)
            assert refused.status_code == 400 and 'data-error="contact"' in refused.text
            assert "+86138" not in refused.text
        assert await access.who_saw(harness.db, account) == []

        shown_page = await ann.post(reveal, data={"reason": "calling the customer"})
        assert shown_page.status_code == 200
        assert shown(shown_page, "data-contact-name") == "张伟"
        assert shown(shown_page, "data-contact-mobile").startswith("+86138")
        assert shown_page.headers["cache-control"] == "no-store"
        assert "set-cookie" not in shown_page.headers and "location" not in shown_page.headers
        own = await ann.post(reveal, data={"reason": "other", "other_reason": "branch asked"})
        assert own.status_code == 200 and "data-contact-mobile" in own.text
        # A reload of the case page does not show them again.
        assert "+86138" not in (await ann.get(f"/console/cases/{account}")).text

    seen = await access.who_saw(harness.db, account)
    assert [(r.person_id, r.via, r.what, r.reason) for r in seen] == [
        (COLLECTOR, "console", "contact_details", "branch asked"),
        (COLLECTOR, "console", "contact_details", "calling the customer"),
    ]
    async with signed_in(case_app, SUPERVISOR) as sam:
        page = await sam.get(f"/console/cases/{account}")
        rows = re.findall(r"<tr data-access-row=[^>]*>.*?</tr>", page.text, re.S)
        assert len(rows) == 2
        assert f'data-who="{COLLECTOR}"' in rows[1] and "calling the customer" in rows[1]
    async with signed_in(case_app, PEOPLE[Role.ENGINEER]) as eve:
        page = await eve.get(f"/console/cases/{account}")
        assert 'data-form="contact-details"' not in page.text
        assert (await eve.post(reveal, data={"reason": "calling the customer"})).status_code == 403
    assert len(await access.who_saw(harness.db, account)) == 2


async def test_a_write_off_waits_for_a_second_supervisor_on_the_approvals_page(
    case_app: FastAPI, harness: CaseHarness
) -> None:
    account = await started(harness)
    handle = harness.client.get_workflow_handle(f"case-{account}")
    write_off = {"closure": "written_off", "note": "uncollectable"}
    await add_person(harness.db, "sup.sue", ["supervisor"])
    async with signed_in(case_app, SUPERVISOR) as sam, signed_in(case_app, "sup.sue") as sue:
        for _ in range(2):
            asked = await sam.post(f"/console/cases/{account}/close", data=write_off)
            assert "writing off a case needs a second person" in flash(asked)
        case_page = await sam.get(f"/console/cases/{account}")
        assert "waits for their approval" in shown(case_page, "data-flash")
        assert (await handle.query(Case.status)).stage is not Stage.CLOSED
        first, second = [row.id for row in await approvals.pending(harness.db)]

        listed = await sam.get("/console/approvals")
        row = re.search(rf'<tr data-approval="{first}".*?</tr>', listed.text, re.S)
        assert row and f'href="/console/cases/{account}"' in row.group(0)
        assert "writing off a case" in row.group(0) and f"{SUPERVISOR} (console)" in row.group(0)
        assert "written_off" in row.group(0) and "uncollectable" in row.group(0)

        own = await sam.post(f"/console/approvals/{first}/approve")
        assert "cannot approve their own request" in flash(own)
        reasonless = await sue.post(f"/console/approvals/{second}/reject", data={"reason": " "})
        assert "say why" in flash(reasonless)
        rejected = await sue.post(
            f"/console/approvals/{second}/reject", data={"reason": "try the branch first"}
        )
        assert str(second) in flash(rejected)
        assert [row.id for row in await approvals.pending(harness.db)] == [first]

        approved = await sue.post(f"/console/approvals/{first}/approve")
        assert "written_off" in flash(approved)
        assert await approvals.pending(harness.db) == []
        assert 'data-approval="' not in (await sue.get("/console/approvals")).text

    timeline = await handle.query(Case.timeline)
    [closed] = [e for e in timeline if e.kind == "stage" and "written_off" in e.detail]
    assert closed.actor == f"{SUPERVISOR} (console), approved by sup.sue"
    async with signed_in(case_app, COLLECTOR) as ann:
        assert (await ann.get("/console/approvals")).status_code == 403
        assert (await ann.post(f"/console/approvals/{first}/approve")).status_code == 403
