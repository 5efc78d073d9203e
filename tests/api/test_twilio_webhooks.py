# ruff: noqa: F811  (fixtures are imported by name, below)
"""Twilio's webhooks, signed as Twilio signs them, against the real case workflow.

The API is reached at an internal address while Twilio signs the public one
(TWILIO_STATUS_CALLBACK_URL), as behind a proxy: a signature over the internal URL is refused.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import update
from sqlmodel import col, select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from twilio.request_validator import RequestValidator

from api.app import create_app
from api.routes.twilio_webhooks import INBOUND_PATH, STATUS_PATH
from config.settings import Settings, TaskQueues
from models.case_status import CaseStatus
from models.contracts import RecordPaymentInput, Stage
from models.people import Actor, Role
from models.strategy import Channel
from models.tasks import PlaceCallInput
from operations.gateway import Gateway
from readmodel.engine import Database
from readmodel.tables import CaseRow, ContactAttemptRow
from tests.fakes.twilio_api import FakeTwilio
from tests.workflows.harness import (
    CaseHarness,
    fake_twilio,  # noqa: F401
    running_harness,
    twilio_sender,
)
from workflows.case import CollectionCaseWorkflow as Case

TOKEN = "fake-auth-token"
PUBLIC = "https://collections.example.com"
INTERNAL = "http://10.0.0.7:8000"
OUR_NUMBER = "+15005550006"
T = TypeVar("T")
Handle = WorkflowHandle[Case, CaseStatus]


def settings_for(queue: str, *, token: str | None = TOKEN) -> Settings:
    return Settings(
        task_queues=TaskQueues(collections=queue),
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token=SecretStr(token) if token else None,
        twilio_from_number=OUR_NUMBER,
        status_callback_url=PUBLIC + STATUS_PATH,
    )


def make_app(settings: Settings, client: Client | None, db: Database) -> FastAPI:
    gateway = Gateway(client, answer_within=settings.answer_timeout_seconds) if client else None
    return create_app(settings, gateway=gateway, db=db)


@pytest.fixture
async def harness(
    ts_env: WorkflowEnvironment, task_queue: str, fake_twilio: FakeTwilio, database: Database
) -> AsyncIterator[CaseHarness]:
    sender = twilio_sender(fake_twilio)
    async for h in running_harness(ts_env, task_queue, fake_twilio, database, sender):
        yield h
    await sender.aclose()


@pytest.fixture
async def http(harness: CaseHarness) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(settings_for(harness.queue), harness.client, harness.db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=INTERNAL) as client:
        yield client


async def eventually(check: Callable[[], Awaitable[T | None]], what: str) -> T:
    for _ in range(100):
        found = await check()
        if found is not None and found != []:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"never saw {what}")


def sign(url: str, params: dict[str, str], token: str = TOKEN) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, params)}


async def post_signed(
    http: httpx.AsyncClient,
    path_and_query: str,
    params: dict[str, str],
    *,
    token: str = TOKEN,
    signed_url: str | None = None,
) -> httpx.Response:
    url = signed_url or PUBLIC + path_and_query
    return await http.post(path_and_query, data=params, headers=sign(url, params, token))


# --- status callbacks ---------------------------------------------------------------------


async def first_sms(harness: CaseHarness, handle: Handle) -> ContactAttemptRow:
    """Lets the case's days pass until its first SMS is with the provider."""
    for _ in range(24 * 7):
        sent = [a for a in await harness.attempts(handle) if a.provider_id and a.channel == "sms"]
        if sent:
            return sent[0]
        await harness.sleep_days(1 / 24)
    raise AssertionError("no SMS went out in a week")


def status_path(row: ContactAttemptRow) -> str:
    """What the sender gives Twilio as StatusCallback, without the public base."""
    return f"{STATUS_PATH}?{urlencode({'key': row.idempotency_key})}"


def message_status(row: ContactAttemptRow, status: str, error: int | None = None) -> dict[str, str]:
    params = {
        "AccountSid": "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "From": OUR_NUMBER,
        "To": "+8613800138000",
        "MessageSid": row.provider_id or "",
        "SmsSid": row.provider_id or "",
        "MessageStatus": status,
        "SmsStatus": status,
    }
    if error is not None:
        params["ErrorCode"] = str(error)
    return params


async def reload(harness: CaseHarness, row: ContactAttemptRow) -> ContactAttemptRow:
    async with harness.db.session() as s:
        query = select(ContactAttemptRow).where(ContactAttemptRow.id == row.id)
        return (await s.exec(query)).one()


async def outcomes(handle: Handle) -> list[str]:
    return [e.detail for e in await handle.query(Case.timeline) if e.kind == "contact_outcome"]


async def test_a_signed_status_callback_updates_the_attempt_and_reaches_the_case(
    harness: CaseHarness, http: httpx.AsyncClient
) -> None:
    handle = await harness.start()
    row = await first_sms(harness, handle)

    answer = await post_signed(http, status_path(row), message_status(row, "delivered"))

    assert answer.status_code == 204
    assert (await reload(harness, row)).status == "delivered"
    assert await eventually(lambda: outcomes(handle), "the outcome") == ["sms: delivered"]


async def test_a_collectors_bridged_call_reports_its_status_and_length(
    harness: CaseHarness, http: httpx.AsyncClient
) -> None:
    handle = await harness.start(dpd=40)  # the collector stage: a collector call is open
    await harness.sleep_until_local(10)
    [task] = [t for t in (await handle.query(Case.status)).open_tasks]
    collector = Actor("ann.li", via="console", roles=(Role.OPERATIONS,))
    gateway = Gateway(harness.client, answer_within=10).acting(collector)
    placed = await gateway.update(
        handle.id, Case.place_call, PlaceCallInput(task.key, "ann.li", "+8613800000001")
    )
    assert placed.unwrap().accepted
    [row] = [a for a in await harness.attempts(handle) if a.template == "voice_bridge"]
    params = {
        "AccountSid": "AC" + "0" * 32,
        "From": OUR_NUMBER,
        "CallSid": row.provider_id or "",
        "CallStatus": "completed",
        "CallDuration": "185",
    }

    assert (await post_signed(http, status_path(row), params)).status_code == 204
    answered = await reload(harness, row)
    assert (answered.status, answered.duration_seconds) == ("answered", 185)
    assert await eventually(lambda: outcomes(handle), "the outcome") == ["voice: answered"]


async def test_the_same_callback_twice_changes_things_once(
    harness: CaseHarness, http: httpx.AsyncClient
) -> None:
    handle = await harness.start()
    row = await first_sms(harness, handle)
    params = message_status(row, "undelivered", 30003)

    first = await post_signed(http, status_path(row), params)
    after_first = await reload(harness, row)
    again = await post_signed(http, status_path(row), params)
    after_again = await reload(harness, row)

    assert first.status_code == again.status_code == 204
    assert (after_first.status, after_first.error_code) == ("undelivered", 30003)
    assert after_again.updated_at == after_first.updated_at
    await eventually(lambda: outcomes(handle), "the outcome")
    assert await outcomes(handle) == ["sms: undelivered"]


async def test_an_older_status_arriving_late_does_not_overwrite_a_final_one(
    harness: CaseHarness, http: httpx.AsyncClient
) -> None:
    handle = await harness.start()
    row = await first_sms(harness, handle)

    for status in ("delivered", "sent", "queued"):
        answer = await post_signed(http, status_path(row), message_status(row, status))
        assert answer.status_code == 204
    late_failure = message_status(row, "failed", 30008)
    assert (await post_signed(http, status_path(row), late_failure)).status_code == 204

    final = await reload(harness, row)
    assert (final.status, final.error_code) == ("delivered", None)
    await eventually(lambda: outcomes(handle), "the outcome")
    assert await outcomes(handle) == ["sms: delivered"]


async def test_forged_unsigned_or_internally_signed_callbacks_are_refused(
    harness: CaseHarness, http: httpx.AsyncClient
) -> None:
    handle = await harness.start()
    row = await first_sms(harness, handle)
    path, params = status_path(row), message_status(row, "delivered")
    tampered_url = PUBLIC + path
    tampered = sign(tampered_url, {**params, "MessageStatus": "sent", "SmsStatus": "sent"})

    answers = [
        await post_signed(http, path, params, token="not-the-token"),
        await http.post(path, data=params),
        await http.post(path, data=params, headers={"X-Twilio-Signature": ""}),
        await http.post(path, data=params, headers=tampered),
        await post_signed(http, path, params, signed_url=INTERNAL + path),
    ]

    assert [a.status_code for a in answers] == [403] * 5
    assert (await reload(harness, row)).status == row.status
    assert await outcomes(handle) == []


async def test_a_status_for_a_closed_case_is_recorded_and_answered(
    harness: CaseHarness, http: httpx.AsyncClient
) -> None:
    handle = await harness.start(outstanding=300_000, overdue=100_000)
    row = await first_sms(harness, handle)
    await handle.execute_update(
        Case.record_payment,
        RecordPaymentInput(amount_minor=300_000, currency="CNY", payment_ref="P-1"),
    )
    assert (await handle.result()).stage is Stage.CLOSED

    answer = await post_signed(http, status_path(row), message_status(row, "delivered"))

    assert answer.status_code == 204
    assert (await reload(harness, row)).status == "delivered"


# --- inbound SMS ---------------------------------------------------------------------------


def inbound(mobile: str, body: str) -> dict[str, str]:
    return {
        "AccountSid": "AC" + "0" * 32,
        "MessageSid": "SM" + "f" * 32,
        "From": mobile,
        "To": OUR_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }


async def open_case(harness: CaseHarness, mobile: str) -> Handle:
    """A case whose rows (customer, case) are in the read model."""
    handle = await harness.start(mobile=mobile)

    async def written() -> CaseRow | None:
        async with harness.db.session() as s:
            return (await s.exec(select(CaseRow).where(CaseRow.case_id == handle.id))).first()

    await eventually(written, "the case row")
    return handle


async def opted_out(handle: Handle) -> tuple[Channel, ...]:
    return (await handle.query(Case.status)).opted_out


@pytest.mark.parametrize("keyword", ["TD", "退订", "STOP", " stop ", "Unsubscribe", "取消"])
async def test_an_opt_out_keyword_stops_sms_on_every_open_case_of_that_number(
    harness: CaseHarness, http: httpx.AsyncClient, keyword: str
) -> None:
    mobile = "+8613700000001"
    card, loan = await open_case(harness, mobile), await open_case(harness, mobile)
    other = await open_case(harness, "+8613700000002")

    answer = await post_signed(http, INBOUND_PATH, inbound(mobile, keyword))

    assert answer.status_code == 200
    assert answer.text == '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    assert await opted_out(card) == await opted_out(loan) == (Channel.SMS,)
    assert await opted_out(other) == ()
    reasons = [e.detail for e in await card.query(Case.timeline) if e.kind == "opted_out"]
    assert reasons == [f"sms: customer replied {keyword.strip().upper()}"]


async def test_start_opts_back_in_and_repeats_change_nothing(
    harness: CaseHarness, http: httpx.AsyncClient
) -> None:
    mobile = "+8613700000003"
    handle = await open_case(harness, mobile)

    for body in ("STOP", "STOP"):
        assert (await post_signed(http, INBOUND_PATH, inbound(mobile, body))).status_code == 200
    assert await opted_out(handle) == (Channel.SMS,)
    assert (await post_signed(http, INBOUND_PATH, inbound(mobile, "start"))).status_code == 200

    assert await opted_out(handle) == ()
    kinds = [e.kind for e in await handle.query(Case.timeline) if e.kind.startswith("opted")]
    assert kinds == ["opted_out", "opted_in"]


async def test_a_forged_inbound_message_is_refused_and_changes_nothing(
    harness: CaseHarness, http: httpx.AsyncClient
) -> None:
    mobile = "+8613700000004"
    handle = await open_case(harness, mobile)
    params = inbound(mobile, "STOP")

    forged = await post_signed(http, INBOUND_PATH, params, token="guessed")
    unsigned = await http.post(INBOUND_PATH, data=params)

    assert forged.status_code == unsigned.status_code == 403
    assert await opted_out(handle) == ()


async def test_an_unknown_number_or_other_text_changes_nothing_and_logs_no_personal_data(
    harness: CaseHarness, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    mobile = "+8613700000005"
    handle = await open_case(harness, mobile)
    body = "I will pay tomorrow, call me on +8613912345678"
    caplog.set_level(logging.INFO)

    unknown = await post_signed(http, INBOUND_PATH, inbound("+8613799999999", "STOP"))
    chatter = await post_signed(http, INBOUND_PATH, inbound(mobile, body))
    not_alone = await post_signed(http, INBOUND_PATH, inbound(mobile, "YES please stop"))

    assert [a.status_code for a in (unknown, chatter, not_alone)] == [200] * 3
    assert all("<Response/>" in a.text for a in (unknown, chatter, not_alone))
    assert await opted_out(handle) == ()
    logged = caplog.text
    assert "8613799999999" not in logged and mobile not in logged and "pay tomorrow" not in logged


async def test_a_case_closed_before_the_read_model_caught_up_is_no_error(
    harness: CaseHarness, http: httpx.AsyncClient
) -> None:
    mobile = "+8613700000006"
    handle = await open_case(harness, mobile)
    await handle.execute_update(
        Case.record_payment,
        RecordPaymentInput(amount_minor=500_000, currency="CNY", payment_ref="P-1"),
    )
    await handle.result()
    async with harness.db.session() as s:  # as if the closing write were still on its way
        await s.exec(
            update(CaseRow)
            .where(col(CaseRow.case_id) == handle.id)
            .values(stage=Stage.EARLY.value, closed_reason=None)
        )

    answer = await post_signed(http, INBOUND_PATH, inbound(mobile, "STOP"))

    assert answer.status_code == 200


async def test_a_status_is_recorded_even_while_temporal_is_unreachable(
    database: Database,
) -> None:
    row = await attempt_row(database)
    app = make_app(settings_for("unused"), None, database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=INTERNAL) as http:
        answer = await post_signed(http, status_path(row), message_status(row, "delivered"))

    assert answer.status_code == 503
    async with database.session() as s:
        stored = (await s.exec(select(ContactAttemptRow))).one()
    assert stored.status == "delivered"


async def attempt_row(db: Database) -> ContactAttemptRow:
    now = datetime.now(UTC)
    row = ContactAttemptRow(
        idempotency_key="case-A1/c1",
        case_id="case-A1",
        account_no="A1",
        channel="sms",
        template="reminder_firm",
        status="queued",
        provider_id="SM" + "a" * 32,
        created_at=now,
        updated_at=now,
    )
    async with db.session() as s:
        s.add(row)
    return row


# --- without Twilio --------------------------------------------------------------------------


async def test_without_an_auth_token_the_webhooks_are_unavailable(database: Database) -> None:
    app = make_app(settings_for("unused", token=None), None, database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=INTERNAL) as http:
        for path in (f"{STATUS_PATH}?key=case-1%2Fc1", INBOUND_PATH):
            answer = await post_signed(http, path, {"MessageStatus": "delivered"})
            assert answer.status_code == 503
            assert answer.json() == {"detail": "Twilio is not configured"}
