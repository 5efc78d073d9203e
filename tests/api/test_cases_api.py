# ruff: noqa: F811  (fixtures are imported by name, below)
"""The operations API on cases, against the real case workflow on the time-skipping server:
starting a case, every operator action, the timeline (each person on it as themselves), what
waits for a second supervisor; roles, dead tokens, bad input, unknown and closed cases. The
callers are the test people (`tests.people`), each with their own token.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCStatusCode

from api import app as api_app
from config.settings import Settings, TaskQueues
from models.case_status import CaseStatus
from models.contracts import Stage
from models.intake import REQUIRED
from operations import signin
from operations.gateway import Gateway
from operations.roles import Role
from readmodel.engine import Database
from readmodel.tables import AuditLogRow
from temporal.client import data_converter
from tests.fakes.temporal_service import RefusingService, unreached_client
from tests.people import (
    COLLEAGUES,
    PEOPLE,
    People,
    as_colleague,
    as_role,
    people,  # noqa: F401
    sqlite_db,  # noqa: F401
)
from tests.workflows.harness import (
    CaseHarness,
    fake_twilio,  # noqa: F401
    harness,  # noqa: F401
)

EVERY_ROLE = frozenset(Role)
CASE_READERS = EVERY_ROLE - {Role.ADMIN}  # who keeps the directory acts on no case
COLLECTORS = frozenset({Role.OPERATIONS, Role.SUPERVISOR})
SUPERVISOR_ONLY = frozenset({Role.SUPERVISOR})
NO_CREDENTIALS = "sign in (/console/signin) or send an API token"


def settings_for(queue: str) -> Settings:
    return Settings(task_queues=TaskQueues(collections=queue))


def make_app(settings: Settings, client: Client | None, db: Database) -> FastAPI:
    """The app over `db`, which signs its callers in: one copied from `tests.people`'s."""
    gateway = Gateway(client, answer_within=settings.answer_timeout_seconds) if client else None
    app = api_app.create_app(settings, gateway=gateway, db=db)
    return app


@pytest.fixture
async def http(harness: CaseHarness) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(settings_for(harness.queue), harness.client, harness.db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


@pytest.fixture(scope="module")
async def offline_db(
    people: People,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Database]:
    """The read model of `offline`: only the people, who sign in from it."""
    db = people.copy(tmp_path_factory.mktemp("offline") / "collections.db")
    yield db
    await db.dispose()


@pytest.fixture(scope="module")
async def offline(offline_db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a Temporal client it never reaches: for requests refused before any call
    (a role, a body), which need no server and so stay fast. Its database only knows who
    calls."""
    unreached = unreached_client()
    transport = httpx.ASGITransport(app=make_app(settings_for("unused"), unreached, offline_db))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


async def approve(http: httpx.AsyncClient, asked: httpx.Response) -> httpx.Response:
    """The second supervisor's approval of what `asked` left waiting (202)."""
    assert asked.status_code == 202, asked.text
    approval = asked.json()["approval_id"]
    return await http.post(f"/approvals/{approval}/approve", headers=as_colleague(Role.SUPERVISOR))


async def started_case(harness: CaseHarness, **kwargs: Any) -> str:
    """A running case, assessed and at rest; its account number."""
    handle = await harness.start(**kwargs)
    account = handle.id.removeprefix("case-")
    await at_rest(harness, account)
    return account


async def at_rest(harness: CaseHarness, account: str) -> None:
    """Waits until the case sleeps till its next due time (its last event starts a timer).

    An action that reaches a case while it writes the read model is taken, but its rows wait
    for the case's next timer; tests that look at rows act on a case at rest.
    """
    handle = harness.client.get_workflow_handle(f"case-{account}")
    for _ in range(200):
        last = None
        async for event in handle.fetch_history_events():
            last = event.event_type
        if last == EventType.EVENT_TYPE_TIMER_STARTED:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"{handle.id} never came to rest")


async def night_zone(harness: CaseHarness) -> str:
    """A time zone where it is night now: a closed case's closing message waits for morning,
    so the case stays open (and refuses actions itself) until the test moves the clock."""
    now = await harness.env.get_current_time()
    for hours in range(-12, 15):
        if (now + timedelta(hours=hours)).hour in range(1, 5):
            return f"Etc/GMT{-hours:+d}"  # POSIX style: the sign is inverted
    raise AssertionError("every hour has a night somewhere")


def detail(response: httpx.Response) -> Any:
    return response.json()["detail"]


def fields(response: httpx.Response) -> dict[str, str]:
    """A 422's {field: message}, whether pydantic or the intake checks refused the body."""
    assert response.status_code == 422, response.text
    return {e["loc"][-1]: e["msg"] for e in detail(response)}


# --- who may call what ---------------------------------------------------------------------

PAYMENT = {"amount_minor": 100, "currency": "CNY", "payment_ref": "P-1"}
REASON = {"reason": "customer asked"}
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, frozenset[Role]]] = [
    ("POST", "/cases", {}, COLLECTORS),
    ("POST", "/cases/6222000000000001/record_payment", PAYMENT, COLLECTORS),
    (
        "POST",
        "/cases/6222000000000001/promise_to_pay",
        {"amount_minor": 1, "currency": "CNY", "promised_date": "2030-01-01"},
        COLLECTORS,
    ),
    ("POST", "/cases/6222000000000001/raise_dispute", REASON, COLLECTORS),
    (
        "POST",
        "/cases/6222000000000001/resolve_dispute",
        {"upheld": False, "reason": "x"},
        SUPERVISOR_ONLY,
    ),
    ("POST", "/cases/6222000000000001/report_hardship", REASON, COLLECTORS),
    ("POST", "/cases/6222000000000001/opt_out", {"channel": "sms"}, COLLECTORS),
    ("POST", "/cases/6222000000000001/opt_in", {"channel": "sms"}, COLLECTORS),
    ("POST", "/cases/6222000000000001/pause", REASON, COLLECTORS),
    ("POST", "/cases/6222000000000001/resume", REASON, COLLECTORS),
    (
        "POST",
        "/cases/6222000000000001/close",
        {"reason": "written_off", "note": "x"},
        SUPERVISOR_ONLY,
    ),
    ("GET", "/cases/6222000000000001/timeline", None, CASE_READERS),
]
DENIED = [
    pytest.param(method, path, body, role, id=f"{path.rsplit('/', 1)[-1]}-{role}")
    for method, path, body, allowed in ENDPOINTS
    for role in sorted(EVERY_ROLE - allowed)
]


@pytest.mark.parametrize(("method", "path", "body", "role"), DENIED)
async def test_a_role_not_allowed_is_refused(
    offline: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None, role: Role
) -> None:
    response = await offline.request(method, path, json=body, headers=as_role(role))
    assert response.status_code == 403
    assert "only these roles may call this" in detail(response)


@pytest.fixture(scope="module")
async def dead_tokens(offline_db: Database) -> dict[str, str]:
    """Tokens of ops.ann's that admit nobody any more: one expired, one revoked."""
    ann = PEOPLE[Role.OPERATIONS]
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    expired = await signin.issue_token(offline_db, ann, "old script", days=1, now=two_days_ago)
    revoked = await signin.issue_token(offline_db, ann, "lost laptop")
    assert await signin.revoke_token(offline_db, revoked.token_id, owner=ann)
    return {"expired": expired.token, "revoked": revoked.token}


def dead_credentials(kind: str, dead_tokens: dict[str, str]) -> dict[str, str]:
    live = as_role(Role.OPERATIONS)["X-API-Key"]
    token_id = live.removeprefix(signin.TOKEN_PREFIX).partition("_")[0]
    return {
        "none": {},
        "unknown": {"X-API-Key": "guess"},
        "wrong-secret": {"X-API-Key": f"{signin.TOKEN_PREFIX}{token_id}_guess"},
        "expired": {"X-API-Key": dead_tokens["expired"]},
        "revoked": {"Authorization": f"Bearer {dead_tokens['revoked']}"},
        "no-session": {"Cookie": "collections_session=guess"},
    }[kind]


DEAD = ["none", "unknown", "wrong-secret", "expired", "revoked", "no-session"]


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ENDPOINTS)
@pytest.mark.parametrize("credentials", DEAD)
async def test_a_missing_unknown_or_dead_token_is_refused(
    offline: httpx.AsyncClient,
    dead_tokens: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    allowed: frozenset[Role],
    credentials: str,
) -> None:
    headers = dead_credentials(credentials, dead_tokens)
    response = await offline.request(method, path, json=body, headers=headers)
    assert response.status_code == 403
    assert NO_CREDENTIALS in detail(response)


# --- starting a case ------------------------------------------------------------------------


def intake_row(account_no: str = "6222000099990001", **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "account_no": account_no,
        "customer_ref": "CUST-9",
        "customer_name": "张伟",
        "mobile": "+8613800138000",
        "language": "zh-CN",
        "time_zone": "Asia/Shanghai",
        "product": "card",
        "currency": "CNY",
        "outstanding_minor": 500_000,
        "overdue_minor": "120000",  # as the daily file has it: text works too
        "oldest_due_date": (date.today() - timedelta(days=10)).isoformat(),
    }
    return {**row, **changes}


async def test_a_case_starts_from_an_intake_row_once(
    http: httpx.AsyncClient, harness: CaseHarness
) -> None:
    started = await http.post("/cases", json=intake_row(), headers=as_role(Role.OPERATIONS))
    assert started.status_code == 201, started.text
    assert started.json() == {"case_id": "case-6222000099990001", "account_no": "6222000099990001"}
    status = await harness.client.get_workflow_handle("case-6222000099990001").query(
        "status", result_type=CaseStatus
    )
    assert (status.stage, status.outstanding_minor) == (Stage.EARLY, 500_000)

    again = await http.post("/cases", json=intake_row(), headers=as_role(Role.SUPERVISOR))
    assert again.status_code == 409
    assert detail(again) == (
        "a case for account 6222000099990001 is already running (case-6222000099990001)"
    )


async def test_a_bad_intake_row_is_refused_with_the_daily_files_reasons(
    offline: httpx.AsyncClient,
) -> None:
    bad = intake_row(
        mobile="138 0013 8000",
        overdue_minor=600_000,
        time_zone="Mars/Olympus",
        oldest_due_date="2020-13-01",
        strategy="nope",
    )
    response = await offline.post("/cases", json=bad, headers=as_role(Role.OPERATIONS))
    assert fields(response) == {
        "mobile": "mobile is not E.164 (+ and 8 to 15 digits, no spaces)",
        "overdue_minor": "is greater than outstanding_minor",
        "time_zone": "unknown time zone (use an IANA name such as Asia/Shanghai)",
        "oldest_due_date": "is not a date in YYYY-MM-DD form",
        "strategy": "unknown strategy (no policy of that name)",
    }
    assert detail(response)[0] == {
        "type": "invalid_row",
        "loc": ["body", "mobile"],
        "msg": "mobile is not E.164 (+ and 8 to 15 digits, no spaces)",
        "field": "mobile",
        "reason": "mobile is not E.164 (+ and 8 to 15 digits, no spaces)",
    }

    blank = await offline.post(
        "/cases", json=intake_row(customer_ref=" "), headers=as_role(Role.OPERATIONS)
    )
    assert fields(blank) == {"customer_ref": "is missing"}

    empty = {name: "" for name in intake_row()}
    nothing = await offline.post("/cases", json=empty, headers=as_role(Role.OPERATIONS))
    assert set(fields(nothing).values()) == {"is missing"}
    assert set(fields(nothing)) == set(REQUIRED)


async def test_a_row_whose_policy_cannot_be_used_is_not_started_and_says_why(
    offline_db: Database, tmp_path: Path
) -> None:
    broken = tmp_path / "bank.toml"
    broken.write_text('name = "bank"\nversion = "1"\n', encoding="utf-8")  # no ladders
    settings = dataclasses.replace(settings_for("unused"), policy_file=broken)
    app = make_app(settings, unreached_client(), offline_db)  # no start is ever tried
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://x"
    ) as http:
        response = await http.post("/cases", json=intake_row(), headers=as_role(Role.OPERATIONS))

    assert response.status_code == 503
    assert detail(response) == (
        f"not assessed: {broken}: [ladders] has no ladder for segment(s) low, medium, high"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mobile": None}, "mobile"),
        ({"outstanding_minor": 1.5}, "outstanding_minor"),
        ({"outstanding_minor": True}, "outstanding_minor"),
        ({"mobil": "+8613800138000"}, "mobil"),
    ],
    ids=["null", "fraction", "bool", "unknown-field"],
)
async def test_an_intake_row_of_the_wrong_shape_is_422_naming_the_field(
    offline: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await offline.post(
        "/cases", json=intake_row(**body), headers=as_role(Role.OPERATIONS)
    )
    assert field in fields(response), response.text


async def test_a_row_missing_a_field_is_422_naming_it(offline: httpx.AsyncClient) -> None:
    row = intake_row()
    del row["currency"]
    response = await offline.post("/cases", json=row, headers=as_role(Role.OPERATIONS))
    assert fields(response) == {"currency": "Field required"}


# --- operator actions ----------------------------------------------------------------------


async def test_a_payment_is_recorded_once_and_shows_on_the_timeline(
    http: httpx.AsyncClient, harness: CaseHarness
) -> None:
    account = await started_case(harness)
    path = f"/cases/{account}/record_payment"
    paid = await http.post(path, json=PAYMENT, headers=as_role(Role.OPERATIONS))
    assert paid.status_code == 200, paid.text
    assert paid.json() == {
        "accepted": True,
        "message": "payment recorded; outstanding 4,999.00 CNY",
        "stage": "early",
    }
    repeat = await http.post(path, json=PAYMENT, headers=as_role(Role.SUPERVISOR))
    assert repeat.status_code == 200
    assert repeat.json()["accepted"] is False
    assert repeat.json()["message"] == "payment P-1 was already recorded"

    paused = await http.post(
        f"/cases/{account}/pause", json=REASON, headers=as_role(Role.SUPERVISOR)
    )
    assert paused.status_code == 200, paused.text

    for role in CASE_READERS:  # every role that works cases reads the timeline
        timeline = await http.get(f"/cases/{account}/timeline", headers=as_role(role))
        assert timeline.status_code == 200, timeline.text
        kinds = [event["kind"] for event in timeline.json()]
        assert kinds[0] == "opened"
        assert kinds.count("payment") == 1
        payment = timeline.json()[kinds.index("payment")]
        assert payment["detail"] == "1.00 CNY ref P-1"  # in yuan, and its fields beside it
        assert payment["data"] == {"amount_minor": 100, "currency": "CNY", "payment_ref": "P-1"}
        # Each person is on record as themselves, with the way they came.
        assert timeline.json()[kinds.index("payment")]["actor"] == "ops.ann (api)"
        assert timeline.json()[kinds.index("paused")]["actor"] == "sup.sam (api)"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {**PAYMENT, "amount_minor": -5},
            "amount must be positive and at most 9223372036854775807, got -5",
        ),
        ({**PAYMENT, "currency": "USD"}, "currency USD does not match the account's CNY"),
        ({**PAYMENT, "payment_ref": " "}, "payment_ref is required"),
    ],
    ids=["negative", "currency", "no-ref"],
)
async def test_a_payment_the_case_refuses_is_400_with_its_message(
    http: httpx.AsyncClient, harness: CaseHarness, body: dict[str, Any], message: str
) -> None:
    account = await started_case(harness)
    response = await http.post(
        f"/cases/{account}/record_payment", json=body, headers=as_role(Role.OPERATIONS)
    )
    assert response.status_code == 400
    assert detail(response) == message


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("record_payment", {**PAYMENT, "amount_minor": "ten"}, "amount_minor"),
        ("record_payment", {"amount_minor": 100, "currency": "CNY"}, "payment_ref"),
        ("promise_to_pay", {"amount_minor": 1, "currency": "CNY"}, "promised_date"),
        (
            "promise_to_pay",
            {"amount_minor": 1, "currency": "CNY", "promised_date": "soon"},
            "promised_date",
        ),
        ("raise_dispute", {}, "reason"),
        ("resolve_dispute", {"upheld": "perhaps", "reason": "x"}, "upheld"),
        ("opt_out", {"channel": "pigeon"}, "channel"),
        ("close", {"reason": "bored", "note": "x"}, "reason"),
    ],
)
async def test_a_body_of_the_wrong_type_is_422_naming_the_field(
    offline: httpx.AsyncClient, action: str, body: dict[str, Any], field: str
) -> None:
    response = await offline.post(
        f"/cases/6222000000000001/{action}", json=body, headers=as_role(Role.SUPERVISOR)
    )
    assert field in fields(response)


async def test_every_action_reaches_the_case_and_its_validators(
    http: httpx.AsyncClient, harness: CaseHarness
) -> None:
    account = await started_case(harness)
    promised = (await harness.today() + timedelta(days=5)).isoformat()

    async def act(action: str, body: dict[str, Any], role: Role = Role.OPERATIONS) -> Any:
        response = await http.post(f"/cases/{account}/{action}", json=body, headers=as_role(role))
        return response.status_code, response.json()

    assert await act("resume", REASON) == (400, {"detail": "case is not paused"})
    assert await act("pause", {"reason": " "}) == (400, {"detail": "a reason is required"})
    status, paused = await act("pause", REASON)
    assert (status, paused["message"]) == (200, "case paused; nothing goes out until it is resumed")
    assert await act("pause", REASON) == (400, {"detail": "case is already paused"})
    assert (await act("resume", REASON))[0] == 200

    assert (await act("opt_out", {"channel": "voice"}))[1]["message"] == "no more voice contact"
    assert (await act("opt_in", {"channel": "voice"}))[1]["message"] == (
        "voice contact allowed again"
    )

    assert await act("resolve_dispute", {"upheld": False, "reason": "x"}, Role.SUPERVISOR) == (
        400,
        {"detail": "no dispute is open"},
    )
    assert (await act("raise_dispute", REASON))[0] == 200
    assert await act("raise_dispute", REASON) == (400, {"detail": "a dispute is already open"})
    status, resolved = await act(
        "resolve_dispute", {"upheld": False, "reason": "statement checked"}, Role.SUPERVISOR
    )
    assert (status, resolved["message"]) == (200, "dispute rejected; collection resumes")

    too_much = {"amount_minor": 10**9, "currency": "CNY", "promised_date": promised}
    assert await act("promise_to_pay", too_much) == (
        400,
        {"detail": "promised amount is more than the outstanding balance"},
    )
    status, promise = await act(
        "promise_to_pay", {"amount_minor": 120_000, "currency": "CNY", "promised_date": promised}
    )
    assert (status, promise["message"].split(";")[0]) == (200, "promise recorded")

    status, hardship = await act("report_hardship", {"reason": "lost job"}, Role.SUPERVISOR)
    assert (status, hardship["stage"]) == (200, "risk_review")

    timeline = await http.get(f"/cases/{account}/timeline", headers=as_role(Role.LEGAL))
    kinds = [event["kind"] for event in timeline.json()]
    for kind in (
        "paused",
        "resumed",
        "opted_out",
        "opted_in",
        "dispute_raised",
        "dispute_resolved",
        "promise",
        "hardship",
    ):
        assert kind in kinds


async def test_upholding_a_dispute_waits_for_a_second_supervisor_who_may_reject_it(
    http: httpx.AsyncClient, harness: CaseHarness
) -> None:
    account = await started_case(harness)
    raised = await http.post(
        f"/cases/{account}/raise_dispute", json=REASON, headers=as_role(Role.OPERATIONS)
    )
    assert raised.status_code == 200, raised.text
    upheld = {"upheld": True, "reason": "the card was stolen"}
    asked = await http.post(
        f"/cases/{account}/resolve_dispute", json=upheld, headers=as_role(Role.SUPERVISOR)
    )
    assert asked.status_code == 202, asked.text
    approval = asked.json()["approval_id"]
    pending = await http.get("/approvals", headers=as_colleague(Role.SUPERVISOR))
    [waiting] = [a for a in pending.json() if a["approval_id"] == approval]
    assert (waiting["case_id"], waiting["action"], waiting["requested_by"]) == (
        f"case-{account}",
        "resolve_dispute",
        PEOPLE[Role.SUPERVISOR],
    )
    assert waiting["input"] == upheld
    # Only supervisors decide, and a rejection needs its reason.
    collector = await http.post(
        f"/approvals/{approval}/reject", json=REASON, headers=as_role(Role.OPERATIONS)
    )
    assert collector.status_code == 403
    no_reason = await http.post(
        f"/approvals/{approval}/reject",
        json={"reason": " "},
        headers=as_colleague(Role.SUPERVISOR),
    )
    assert no_reason.status_code == 400
    rejected = await http.post(
        f"/approvals/{approval}/reject",
        json={"reason": "no police report"},
        headers=as_colleague(Role.SUPERVISOR),
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    status = await harness.client.get_workflow_handle(f"case-{account}").query(
        "status", result_type=CaseStatus
    )
    assert status.stage is not Stage.CLOSED and status.dispute_open
    # Rejecting the dispute itself needs no second person.
    resolved = await http.post(
        f"/cases/{account}/resolve_dispute",
        json={"upheld": False, "reason": "no police report"},
        headers=as_role(Role.SUPERVISOR),
    )
    assert resolved.status_code == 200, resolved.text


async def test_a_case_closed_by_a_supervisor_refuses_further_actions_with_409(
    http: httpx.AsyncClient, harness: CaseHarness
) -> None:
    account = await started_case(harness, time_zone=await night_zone(harness))
    close = f"/cases/{account}/close"
    as_paid = await http.post(
        close, json={"reason": "paid", "note": "x"}, headers=as_role(Role.SUPERVISOR)
    )
    assert as_paid.status_code == 400
    assert detail(as_paid) == "a case closes as paid by recording the payment"

    # Settling needs two supervisors: the first one's request waits, and changes nothing ...
    settled = {"reason": "settled", "note": "settled with the branch"}
    asked = await http.post(close, json=settled, headers=as_role(Role.SUPERVISOR))
    assert asked.status_code == 202, asked.text
    approval = asked.json()["approval_id"]
    assert asked.json()["message"] == (
        f"settling a case below its balance needs a second person: request {approval} waits "
        "for their approval"
    )
    status = await harness.client.get_workflow_handle(f"case-{account}").query(
        "status", result_type=CaseStatus
    )
    assert status.stage is Stage.EARLY
    # ... which the same person cannot approve; another supervisor's approval closes the case.
    own = await http.post(f"/approvals/{approval}/approve", headers=as_role(Role.SUPERVISOR))
    assert own.status_code == 403
    assert "sup.sam cannot approve their own request" in detail(own)
    closed = await approve(http, asked)
    assert closed.status_code == 200, closed.text
    assert closed.json() == {
        "accepted": True,
        "message": "case closed as settled",
        "stage": "closed",
    }
    twice = await http.post(f"/approvals/{approval}/approve", headers=as_colleague(Role.SUPERVISOR))
    assert twice.status_code == 409, twice.text

    paid = await http.post(
        f"/cases/{account}/record_payment", json=PAYMENT, headers=as_role(Role.OPERATIONS)
    )
    assert paid.status_code == 409
    assert detail(paid) == "case is closed (settled)"

    await harness.sleep_days(1)  # morning: the closing message goes out and the workflow ends
    await harness.client.get_workflow_handle(f"case-{account}").result()
    ended = await http.post(
        f"/cases/{account}/pause", json=REASON, headers=as_role(Role.OPERATIONS)
    )
    assert ended.status_code == 409
    assert detail(ended) == f"case case-{account} is closed (completed)"
    timeline = await http.get(f"/cases/{account}/timeline", headers=as_role(Role.RISK))
    [closing] = [e for e in timeline.json() if "-> closed: settled" in e["detail"]]
    assert closing["actor"] == f"sup.sam (api), approved by {COLLEAGUES[Role.SUPERVISOR]}"


async def test_an_unknown_account_is_404(http: httpx.AsyncClient) -> None:
    for action, body in [("record_payment", PAYMENT), ("pause", REASON)]:
        response = await http.post(
            f"/cases/0000000000/{action}", json=body, headers=as_role(Role.SUPERVISOR)
        )
        assert response.status_code == 404
        assert detail(response) == "no case case-0000000000"
    timeline = await http.get("/cases/0000000000/timeline", headers=as_role(Role.ENGINEER))
    assert timeline.status_code == 404
    assert detail(timeline) == "no case for account 0000000000"


async def test_the_timeline_outlives_the_workflow_in_the_audit_log(
    http: httpx.AsyncClient, harness: CaseHarness
) -> None:
    """A case Temporal no longer holds (past retention) shows the read model's audit log."""
    at = await harness.env.get_current_time()
    async with harness.db.session() as session:
        for seq, kind in enumerate(("opened", "payment", "stage"), start=1):
            session.add(
                AuditLogRow(
                    case_id="case-6222000077770001",
                    seq=seq,
                    at=at + timedelta(minutes=seq),
                    kind=kind,
                    detail=f"{kind} detail",
                    actor="workflow",
                )
            )
    response = await http.get("/cases/6222000077770001/timeline", headers=as_role(Role.RISK))
    assert response.status_code == 200, response.text
    assert [e["kind"] for e in response.json()] == ["opened", "payment", "stage"]


# --- bounds on query parameters, and a Temporal too busy to answer ----------------------------


@contextlib.asynccontextmanager
async def refused_with(refusal: RPCStatusCode, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The app over a real read model and a Temporal that answers every call with `refusal`."""
    temporal = Client(RefusingService(refusal), data_converter=data_converter())
    transport = httpx.ASGITransport(app=make_app(settings_for("unused"), temporal, db))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


@pytest.fixture
async def busy(sqlite_db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with refused_with(RPCStatusCode.RESOURCE_EXHAUSTED, sqlite_db) as client:
        yield client


BOUNDED = [
    ("/cases", "min_dpd", 0, 36_500),
    ("/cases", "limit", 1, 500),
    ("/cases/search", "min_dpd", 0, 36_500),
    ("/cases/search", "limit", 1, 1000),
    ("/kpis", "window_days", 1, 3660),
    ("/tasks", "limit", 1, 500),
    ("/handoffs", "limit", 1, 500),
]


@pytest.mark.parametrize(("path", "name", "low", "high"), BOUNDED)
@pytest.mark.parametrize("beyond", ["low", "high", "int64"])
async def test_a_number_out_of_range_is_422_naming_the_parameter_and_its_bound(
    busy: httpx.AsyncClient, path: str, name: str, low: int, high: int, beyond: str
) -> None:
    value = {"low": low - 1, "high": high + 1, "int64": 2**63}[beyond]
    response = await busy.get(path, params={name: value}, headers=as_role(Role.SUPERVISOR))
    assert response.status_code == 422, response.text
    [error] = detail(response)
    assert error["loc"] == ["query", name]
    bound = (
        f"greater than or equal to {low}" if beyond == "low" else f"less than or equal to {high}"
    )
    assert bound in error["msg"]


async def test_the_widest_days_past_due_is_answered(busy: httpx.AsyncClient) -> None:
    response = await busy.get(
        "/cases", params={"min_dpd": 36_500, "limit": 500}, headers=as_role(Role.SUPERVISOR)
    )
    assert response.status_code == 200, response.text
    assert response.json() == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/cases/6222000000000001/record_payment", PAYMENT),
        ("GET", "/cases/6222000000000001", None),
        ("GET", "/cases/6222000000000001/timeline", None),
        ("GET", "/cases/search", None),
    ],
)
async def test_a_busy_temporal_is_503_with_retry_after(
    busy: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = await busy.request(method, path, json=body, headers=as_role(Role.SUPERVISOR))
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert "RESOURCE_EXHAUSTED" in detail(response)


@pytest.mark.parametrize(
    ("refusal", "code"),
    [(RPCStatusCode.UNAVAILABLE, 503), (RPCStatusCode.DEADLINE_EXCEEDED, 504)],
)
@pytest.mark.parametrize("path", ["/cases/6222000000000001", "/cases/search"])
async def test_a_temporal_that_cannot_answer_now_is_503_or_504(
    sqlite_db: Database, refusal: RPCStatusCode, code: int, path: str
) -> None:
    """Unreachable is worth retrying soon (`Retry-After`); no answer in time is a 504."""
    async with refused_with(refusal, sqlite_db) as api:
        response = await api.get(path, headers=as_role(Role.SUPERVISOR))
    assert response.status_code == code, response.text
    assert ("Retry-After" in response.headers) == (code == 503)
