# ruff: noqa: F811  (the database fixtures are imported by name, below)
"""Messaging goes out exactly once: the real twilio client against the local fake of its API.

Retries are made the way Temporal makes them: the activity is run again with the same input.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from twilio.request_validator import RequestValidator

from activities.messaging.activities import MessagingActivities
from activities.messaging.senders import (
    OutboxSender,
    ProviderReceipt,
    RoutedHttpClient,
    Sender,
    TransientSendError,
    TwilioSender,
)
from models.contracts import AttemptStatus, ContactOutcome, Language, SendInput, SendResult
from models.messaging import DeliveryStatusInput
from models.strategy import Channel
from readmodel.engine import Database
from readmodel.tables import CaseRow, ContactAttemptRow, CustomerRow

# Until tests/conftest.py imports the database fixtures for every module.
from tests.conftest_db import database, database_url, postgres_url, sqlite_template  # noqa: F401
from tests.fakes.twilio_api import CallbackSink, FakeTwilio

TO = "+8613800138000"
FROM = "+15005550006"
PARAMS = {"bank": "Example Bank", "last4": "5678", "amount": "CNY 1234.56"}


def sms(key: str = "case-A1/c1", **changes: object) -> SendInput:
    req = SendInput(
        idempotency_key=key,
        case_id="case-A1",
        account_no="A1",
        channel=Channel.SMS,
        to=TO,
        language=Language.ZH_CN,
        template="reminder_firm",
        params=PARAMS,
    )
    return replace(req, **changes)  # type: ignore[arg-type]


def call(key: str = "case-A1/c2") -> SendInput:
    return sms(key, channel=Channel.VOICE, template="voice_reminder")


async def send(messaging: MessagingActivities, req: SendInput) -> SendResult:
    result: SendResult = await ActivityEnvironment().run(messaging.send_contact, req)
    return result


async def apply(messaging: MessagingActivities, req: DeliveryStatusInput) -> ContactOutcome | None:
    outcome: ContactOutcome | None = await ActivityEnvironment().run(
        messaging.apply_delivery_status, req
    )
    return outcome


async def rows(db: Database) -> list[ContactAttemptRow]:
    async with db.session() as s:
        return list((await s.exec(select(ContactAttemptRow))).all())


async def received(sink: CallbackSink, count: int) -> list[tuple[str, dict[str, str], str]]:
    for _ in range(250):
        if len(sink.received) >= count:
            return list(sink.received)
        await asyncio.sleep(0.02)
    raise TimeoutError(f"{len(sink.received)} of {count} callbacks")


def as_status_input(url: str, params: dict[str, str]) -> DeliveryStatusInput:
    return DeliveryStatusInput(
        status=params.get("MessageStatus") or params["CallStatus"],
        provider_id=params.get("MessageSid") or params["CallSid"],
        idempotency_key=parse_qs(urlsplit(url).query)["key"][0],
        error_code=int(params["ErrorCode"]) if "ErrorCode" in params else None,
    )


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeTwilio]:
    with FakeTwilio(hang_seconds=2.0) as server:
        yield server


@pytest.fixture(scope="module")
def sink_server() -> Iterator[CallbackSink]:
    with CallbackSink() as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeTwilio) -> FakeTwilio:
    fake_server.reset()
    return fake_server


@pytest.fixture
def sink(sink_server: CallbackSink, fake: FakeTwilio) -> CallbackSink:
    sink_server.reset()  # after the fake's reset, so no callback of an earlier test arrives
    return sink_server


@pytest.fixture
async def sender(fake: FakeTwilio, sink: CallbackSink) -> AsyncIterator[TwilioSender]:
    twilio = TwilioSender(
        fake.account_sid,
        fake.auth_token,
        FROM,
        base_url=fake.base_url,
        status_callback_url=sink.url,
        timeout=1.0,
    )
    yield twilio
    await twilio.aclose()


@pytest.fixture
def messaging(sender: TwilioSender, database: Database) -> MessagingActivities:
    return MessagingActivities(sender, database, settle=timedelta(0))


# --- sending ---------------------------------------------------------------------------


async def test_sms_goes_out_through_the_real_client(
    messaging: MessagingActivities,
    fake: FakeTwilio,
    database: Database,
) -> None:
    result = await send(messaging, sms())

    assert result.status is AttemptStatus.QUEUED and result.provider_id.startswith("SM")
    (message,) = fake.messages
    assert (message.sid, message.to, message.from_) == (result.provider_id, TO, FROM)
    assert "5678" in message.body and "回复TD退订" in message.body
    assert message.status_callback is not None
    assert parse_qs(urlsplit(message.status_callback).query)["key"] == ["case-A1/c1"]
    (row,) = await rows(database)
    assert (row.status, row.provider_id, row.reason) == ("queued", result.provider_id, "")


async def test_voice_goes_out_as_twiml(messaging: MessagingActivities, fake: FakeTwilio) -> None:
    result = await send(messaging, call())

    assert result.provider_id.startswith("CA")
    (placed,) = fake.calls
    assert placed.body.startswith("<?xml") and '<Say language="zh-CN">' in placed.body
    assert fake.messages == []


async def test_the_same_key_twice_sends_once(
    messaging: MessagingActivities, fake: FakeTwilio
) -> None:
    first = await send(messaging, sms())
    second = await send(messaging, sms())

    assert first == second
    assert len(fake.messages) == 1 and fake.create_requests == 1


async def test_rate_limited_then_retried_sends_once(
    messaging: MessagingActivities,
    fake: FakeTwilio,
    database: Database,
) -> None:
    fake.fail_next(2, status=429)

    for _ in range(2):
        with pytest.raises(TransientSendError) as info:
            await send(messaging, sms())
        assert info.value.maybe_sent is False
        assert (await rows(database))[0].reason == "not_sent"
    result = await send(messaging, sms())

    assert result.status is AttemptStatus.QUEUED
    assert len(fake.messages) == 1 and fake.create_requests == 3


@pytest.mark.parametrize(
    ("code", "reason"),
    [(21211, "invalid number"), (21610, "unsubscribed"), (21614, "not a mobile number")],
)
async def test_a_permanent_refusal_is_recorded_as_failed_and_not_retried(
    messaging: MessagingActivities,
    fake: FakeTwilio,
    database: Database,
    caplog: pytest.LogCaptureFixture,
    code: int,
    reason: str,
) -> None:
    fake.reject_number(TO, code)
    caplog.set_level(logging.DEBUG)

    result = await send(messaging, sms())
    again = await send(messaging, sms())

    assert result == again
    assert (result.status, result.error_code, result.reason) == (AttemptStatus.FAILED, code, reason)
    assert fake.messages == [] and fake.create_requests == 1
    (row,) = await rows(database)
    assert (row.status, row.error_code, row.provider_id) == ("failed", code, None)
    assert TO not in caplog.text and TO not in row.reason


async def test_an_invalid_number_is_refused_by_the_provider(
    messaging: MessagingActivities, fake: FakeTwilio
) -> None:
    result = await send(messaging, sms(to="12345"))

    assert (result.status, result.error_code) == (AttemptStatus.FAILED, 21211)
    assert fake.messages == []


@pytest.mark.parametrize("mode", ["500", "drop", "hang"])
async def test_a_lost_response_sends_exactly_one_message_after_a_retry(
    messaging: MessagingActivities,
    fake: FakeTwilio,
    database: Database,
    mode: str,
) -> None:
    fake.lose_next_responses(1, mode=mode)  # type: ignore[arg-type]

    with pytest.raises(TransientSendError) as info:
        await send(messaging, sms())
    assert info.value.maybe_sent is True
    assert len(fake.messages) == 1  # Twilio has it, we do not know
    (row,) = await rows(database)
    assert (row.provider_id, row.reason) == (None, "sending")

    result = await send(messaging, sms())

    assert len(fake.messages) == 1 and fake.create_requests == 1
    assert result.provider_id == fake.messages[0].sid


# --- a call whose answer was lost ---------------------------------------------------------


async def test_a_call_answered_500_that_twilio_never_made_is_placed_once_on_retry(
    sender: TwilioSender, messaging: MessagingActivities, fake: FakeTwilio, database: Database
) -> None:
    """Issue 11: such a call was recorded as sent, and counted as a contact, unplaced."""
    fake.fail_next(1, status=500)  # nothing made, but a 500 cannot tell us so
    with pytest.raises(TransientSendError) as info:
        await send(messaging, call())
    assert info.value.maybe_sent is True

    patient = MessagingActivities(sender, database, settle=timedelta(minutes=5))
    with pytest.raises(TransientSendError, match="not settled"):
        await send(patient, call())  # an earlier request might still be on its way
    (row,) = await rows(database)
    assert (row.status, row.provider_id) == ("queued", None)  # not recorded as sent
    assert fake.calls == [] and fake.create_requests == 1

    result = await send(messaging, call())
    again = await send(messaging, call())

    (placed,) = fake.calls
    assert (result.status, result.provider_id) == (AttemptStatus.QUEUED, placed.sid)
    assert again == result and fake.create_requests == 2
    (row,) = await rows(database)
    assert (row.status, row.provider_id, row.reason) == ("queued", placed.sid, "")


@pytest.mark.parametrize("mode", ["500", "drop", "hang"])
@pytest.mark.parametrize("started", [True, False], ids=["started", "queued"])
async def test_a_call_twilio_made_despite_the_error_is_adopted_not_placed_again(
    fake: FakeTwilio,
    sink: CallbackSink,
    database: Database,
    mode: str,
    started: bool,
) -> None:
    """Twilio lists calls by their start, so a call still queued is asked for as well."""
    twilio = TwilioSender(
        fake.account_sid,
        fake.auth_token,
        FROM,
        base_url=fake.base_url,
        status_callback_url=sink.url if started else None,  # the callback starts the call
        timeout=1.0,
    )
    messaging = MessagingActivities(twilio, database, settle=timedelta(0))
    try:
        fake.lose_next_responses(1, mode=mode)  # type: ignore[arg-type]
        with pytest.raises(TransientSendError):
            await send(messaging, call())
        if started:
            await received(sink, 1)
        (made,) = fake.calls
        assert (made.started_at is not None) is started

        result = await send(messaging, call())
        again = await send(messaging, call())
    finally:
        await twilio.aclose()

    # Twilio's record, as listed: the callback moved the started call on to `completed`.
    expected = AttemptStatus.ANSWERED if started else AttemptStatus.QUEUED
    assert (result.provider_id, result.status) == (made.sid, expected)
    assert again == result
    assert len(fake.calls) == 1 and fake.create_requests == 1


async def test_a_call_in_doubt_whose_lookup_fails_too_is_unconfirmed(
    sender: TwilioSender, fake: FakeTwilio, sink: CallbackSink, database: Database
) -> None:
    """Twilio made the call, answered 500, then failed to list it: the attempt is asked about
    again for a while, then recorded unconfirmed (counted, never placed again), until the
    call's status callback names it."""
    fake.lose_next_responses(1, mode="500")
    with pytest.raises(TransientSendError):
        await send(MessagingActivities(sender, database, settle=timedelta(0)), call())
    fake.fail_next_lists(2, status=500)

    with pytest.raises(TransientSendError, match="twilio"):
        await send(MessagingActivities(sender, database, settle=timedelta(0)), call())
    (row,) = await rows(database)
    assert (row.status, row.reason) == ("queued", "sending")  # still asking

    hasty = MessagingActivities(
        sender, database, settle=timedelta(0), unconfirmed_after=timedelta(0)
    )
    result = await send(hasty, call())
    again = await send(hasty, call())

    assert (result.status, result.provider_id) == (AttemptStatus.UNCONFIRMED, "")
    assert "could not be read" in result.reason and again == result
    assert len(fake.calls) == 1 and fake.create_requests == 1
    (row,) = await rows(database)
    assert (row.status, row.provider_id) == ("unconfirmed", None)

    ((url, params, _),) = await received(sink, 1)
    outcome = await apply(hasty, as_status_input(url, params))

    assert outcome == ContactOutcome(result.idempotency_key, AttemptStatus.ANSWERED, None)
    (row,) = await rows(database)
    assert (row.status, row.provider_id) == ("answered", fake.calls[0].sid)


async def test_a_call_claimed_by_another_attempt_is_not_adopted(
    messaging: MessagingActivities, fake: FakeTwilio
) -> None:
    first = await send(messaging, call("case-A1/c1"))
    fake.fail_next(1, status=500)
    with pytest.raises(TransientSendError):
        await send(messaging, call("case-A1/c9"))

    result = await send(messaging, call("case-A1/c9"))

    assert [c.sid for c in fake.calls] == [first.provider_id, result.provider_id]


async def one_customer_two_cases(db: Database) -> None:
    """The read model of one customer (mobile TO) with two overdue accounts, A1 and A2."""
    now = datetime.now(UTC)
    async with db.session() as s:
        s.add(
            CustomerRow(
                customer_ref="C1", language="zh-CN", time_zone="Asia/Shanghai", mobile=TO,
                updated_at=now,
            )
        )  # fmt: skip
        for account in ("A1", "A2"):
            s.add(
                CaseRow(
                    case_id=f"case-{account}", account_no=account, customer_ref="C1",
                    stage="early", segment="low", score=0, strategy_version="v1",
                    days_past_due=5, currency="CNY", outstanding_minor=1, overdue_minor=1,
                    opened_at=now, updated_at=now,
                )
            )  # fmt: skip


def account_call(account: str) -> SendInput:
    return replace(call(f"case-{account}/c2"), case_id=f"case-{account}", account_no=account)


@pytest.mark.parametrize("callback", ["applied", "lost"])
async def test_two_accounts_calling_one_number_in_doubt_never_call_it_twice(
    sender: TwilioSender,
    fake: FakeTwilio,
    sink: CallbackSink,
    database: Database,
    callback: str,
) -> None:
    """Both calls answered 500: Twilio made the second, not the first. Its list cannot tell
    whose call it is, so neither attempt takes it while the other is in doubt. The call's
    status callback (it carries its key) settles that; then the other attempt, finding no call
    of its own, places it. Without the callback both end unconfirmed, and the one call stays
    the only one."""
    await one_customer_two_cases(database)
    patient = MessagingActivities(sender, database, settle=timedelta(0))
    fake.fail_next(1, status=500)
    with pytest.raises(TransientSendError):
        await send(patient, account_call("A1"))
    fake.lose_next_responses(1, mode="500")
    with pytest.raises(TransientSendError):
        await send(patient, account_call("A2"))
    for account in ("A1", "A2"):
        with pytest.raises(TransientSendError, match="cannot tell"):
            await send(patient, account_call(account))
    assert len(fake.calls) == 1

    hasty = MessagingActivities(
        sender, database, settle=timedelta(0), unconfirmed_after=timedelta(0)
    )
    if callback == "applied":
        ((url, params, _),) = await received(sink, 1)
        await apply(hasty, as_status_input(url, params))
    one = await send(hasty, account_call("A1"))
    two = await send(hasty, account_call("A2"))

    if callback == "applied":
        assert len(fake.calls) == 2 and fake.create_requests == 3
        assert [one.provider_id, two.provider_id] == [fake.calls[1].sid, fake.calls[0].sid]
        assert (one.status, two.status) == (AttemptStatus.QUEUED, AttemptStatus.ANSWERED)
    else:
        assert len(fake.calls) == 1 and fake.create_requests == 2
        assert one.status is two.status is AttemptStatus.UNCONFIRMED
        assert one.provider_id == two.provider_id == ""
    assert {c.to for c in fake.calls} == {TO}
    keys = [parse_qs(urlsplit(c.status_callback or "").query)["key"][0] for c in fake.calls]
    assert len(keys) == len(set(keys))  # no attempt placed twice


async def test_random_faults_never_duplicate_a_call_nor_record_an_unmade_one(
    messaging: MessagingActivities, fake: FakeTwilio, database: Database
) -> None:
    """A third of creates and lists fail; half of the failed creates were made all the same."""
    fake.fail_fraction(0.33, seed=11, status=500, accepted=0.5)
    keys = [f"case-A{n}/c2" for n in range(12)]
    for n, key in enumerate(keys):
        for _ in range(30):
            try:
                await send(messaging, replace(call(key), to=f"+861380013{n:04d}"))
                break
            except TransientSendError:
                continue
    fake.fail_fraction(0.0)

    by_sid = {c.sid: c for c in fake.calls}
    placed = {r.idempotency_key: r.provider_id for r in await rows(database)}
    assert sorted(placed) == sorted(keys) and len(fake.calls) == len(keys)
    assert sorted(by_sid) == sorted(p or "" for p in placed.values())
    assert fake.create_requests > len(keys)  # the faults did happen


async def test_a_message_claimed_by_another_attempt_is_not_adopted(
    messaging: MessagingActivities, fake: FakeTwilio
) -> None:
    """The same text to the same number from a second attempt is not this attempt's."""
    await send(messaging, sms("case-A1/c1"))
    fake.fail_next(1, status=500)
    with pytest.raises(TransientSendError):
        await send(messaging, sms("case-A1/c9"))

    result = await send(messaging, sms("case-A1/c9"))

    assert len(fake.messages) == 2
    assert result.provider_id == fake.messages[1].sid


class CrashAfterSend:
    """The worker dies after the provider accepted the message, before anything is recorded."""

    def __init__(self, inner: Sender) -> None:
        self._inner = inner

    async def send(
        self, *, channel: Channel, to: str, body: str, idempotency_key: str
    ) -> ProviderReceipt:
        await self._inner.send(channel=channel, to=to, body=body, idempotency_key=idempotency_key)
        raise RuntimeError("worker lost")

    async def find_sent(
        self, *, channel: Channel, to: str, body: str, since: datetime
    ) -> Sequence[ProviderReceipt]:
        return await self._inner.find_sent(channel=channel, to=to, body=body, since=since)


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.VOICE])
async def test_a_worker_crash_after_the_provider_call_sends_once(
    sender: TwilioSender,
    fake: FakeTwilio,
    database: Database,
    channel: Channel,
) -> None:
    req = sms() if channel is Channel.SMS else call()
    crashing = MessagingActivities(CrashAfterSend(sender), database, settle=timedelta(0))
    with pytest.raises(RuntimeError):
        await send(crashing, req)

    result = await send(MessagingActivities(sender, database, settle=timedelta(0)), req)

    (record,) = [*fake.messages, *fake.calls]
    assert result.provider_id == record.sid and fake.create_requests == 1


async def test_an_unsettled_send_waits_before_it_sends_again(
    sender: TwilioSender,
    fake: FakeTwilio,
    database: Database,
) -> None:
    fake.fail_next(1, status=500)  # not accepted, but a 500 cannot tell us so
    patient = MessagingActivities(sender, database, settle=timedelta(minutes=5))
    with pytest.raises(TransientSendError):
        await send(patient, sms())

    with pytest.raises(TransientSendError, match="not settled"):
        await send(patient, sms())
    assert fake.create_requests == 1

    result = await send(MessagingActivities(sender, database, settle=timedelta(0)), sms())
    assert len(fake.messages) == 1 and result.provider_id == fake.messages[0].sid


async def test_random_faults_never_duplicate_a_message(
    messaging: MessagingActivities, fake: FakeTwilio
) -> None:
    fake.fail_fraction(0.4, seed=7, status=503)
    keys = [f"case-A{n}/c1" for n in range(12)]
    for key in keys:
        for _ in range(20):
            try:
                await send(messaging, sms(key, to=f"+86138001380{len(key):02d}"))
                break
            except TransientSendError:
                continue
    assert len(fake.messages) == len(keys)
    assert fake.create_requests > len(keys)  # the faults did happen


async def test_a_template_error_is_not_retried_and_records_nothing(
    messaging: MessagingActivities,
    fake: FakeTwilio,
    database: Database,
) -> None:
    for req in (sms(template="nope"), sms(channel=Channel.VOICE), sms(params={"bank": "B"})):
        with pytest.raises(ApplicationError) as info:
            await send(messaging, req)
        assert info.value.non_retryable and info.value.type == "TemplateError"
    assert await rows(database) == [] and fake.create_requests == 0


# --- delivery status -------------------------------------------------------------------


async def test_signed_status_callbacks_update_the_attempt(
    messaging: MessagingActivities, fake: FakeTwilio, sink: CallbackSink
) -> None:
    result = await send(messaging, sms())
    callbacks = await received(sink, 2)

    validator = RequestValidator(fake.auth_token)
    outcomes = []
    for url, params, signature in callbacks:
        assert validator.validate(url, params, signature)
        outcomes.append(await apply(messaging, as_status_input(url, params)))

    assert [p["MessageStatus"] for _, p, _ in callbacks] == ["sent", "delivered"]
    assert outcomes[-1] == ContactOutcome(result.idempotency_key, AttemptStatus.DELIVERED, None)
    assert not validator.validate(callbacks[0][0], {**callbacks[0][1], "To": "+1"}, callbacks[0][2])


async def test_an_undelivered_message_keeps_its_error_code(
    messaging: MessagingActivities,
    fake: FakeTwilio,
    sink: CallbackSink,
    database: Database,
) -> None:
    fake.set_delivery(TO, "undelivered", 30003)
    await send(messaging, sms())
    for url, params, _ in await received(sink, 2):
        await apply(messaging, as_status_input(url, params))

    (row,) = await rows(database)
    assert (row.status, row.error_code) == ("undelivered", 30003)


async def test_callbacks_are_idempotent_and_safe_out_of_order(
    messaging: MessagingActivities, fake: FakeTwilio, sink: CallbackSink
) -> None:
    fake.callback_order, fake.callback_copies = "reversed", 2
    result = await send(messaging, sms())
    callbacks = await received(sink, 4)
    assert [p["MessageStatus"] for _, p, _ in callbacks] == ["delivered"] * 2 + ["sent"] * 2

    outcomes = [await apply(messaging, as_status_input(u, p)) for u, p, _ in callbacks]
    late_failure = await apply(
        messaging, DeliveryStatusInput("failed", provider_id=result.provider_id, error_code=30008)
    )

    delivered = ContactOutcome(result.idempotency_key, AttemptStatus.DELIVERED, None)
    assert outcomes == [delivered] * 4 and late_failure == delivered


@pytest.mark.parametrize(
    ("final", "expected"),
    [
        ("completed", AttemptStatus.ANSWERED),
        ("busy", AttemptStatus.UNANSWERED),
        ("no-answer", AttemptStatus.UNANSWERED),
        ("canceled", AttemptStatus.UNANSWERED),
        ("failed", AttemptStatus.FAILED),
    ],
)
async def test_call_statuses_map_to_attempt_statuses(
    messaging: MessagingActivities,
    fake: FakeTwilio,
    sink: CallbackSink,
    final: str,
    expected: AttemptStatus,
) -> None:
    fake.set_delivery(TO, final)
    await send(messaging, call())
    ((url, params, _),) = await received(sink, 1)

    outcome = await apply(messaging, as_status_input(url, params))

    assert params["CallStatus"] == final
    assert outcome is not None and outcome.status is expected


async def test_a_callback_settles_an_attempt_whose_response_was_lost(
    messaging: MessagingActivities, fake: FakeTwilio, sink: CallbackSink
) -> None:
    fake.lose_next_responses(1, mode="500")
    with pytest.raises(TransientSendError):
        await send(messaging, sms())
    for url, params, _ in await received(sink, 2):
        await apply(messaging, as_status_input(url, params))

    result = await send(messaging, sms())

    assert result.status is AttemptStatus.DELIVERED
    assert result.provider_id == fake.messages[0].sid and fake.create_requests == 1


async def test_an_unknown_attempt_or_status_gives_none(messaging: MessagingActivities) -> None:
    assert await apply(messaging, DeliveryStatusInput("delivered", provider_id="SMnope")) is None
    assert await apply(messaging, DeliveryStatusInput("delivered")) is None
    await send(messaging, sms())
    assert (
        await apply(messaging, DeliveryStatusInput("received", idempotency_key="case-A1/c1"))
        is None
    )


# --- the outbox, masking, routing -------------------------------------------------------


async def test_the_outbox_records_and_logs_a_masked_line(
    database: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="activities.messaging")
    outbox = MessagingActivities(OutboxSender(), database)

    result = await send(outbox, sms())
    again = await send(outbox, sms())

    assert result == again
    assert (result.status, result.provider_id) == (AttemptStatus.SENT, "outbox-case-A1/c1")
    (row,) = await rows(database)
    assert (row.status, row.provider_id) == ("sent", "outbox-case-A1/c1")
    assert "+86*******8000" in caplog.text and TO not in caplog.text
    assert len([r for r in caplog.records if r.message.startswith("outbox")]) == 1


async def test_the_http_client_routes_every_request_to_the_base_url() -> None:
    client = RoutedHttpClient("http://127.0.0.1:9999/fake", timeout=1.0)
    try:
        routed = client.route("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?To=1")
        assert routed == "http://127.0.0.1:9999/fake/2010-04-01/Accounts/AC1/Messages.json?To=1"
        assert (
            RoutedHttpClient(None).route("https://api.twilio.com/x") == "https://api.twilio.com/x"
        )
    finally:
        await client.close()


async def test_no_connection_means_not_sent(database: Database) -> None:
    unreachable = TwilioSender("AC1", "token", FROM, base_url="http://127.0.0.1:9", timeout=1.0)
    messaging = MessagingActivities(unreachable, database)
    try:
        with pytest.raises(TransientSendError) as info:
            await send(messaging, sms())
        assert info.value.maybe_sent is False
        assert (await rows(database))[0].reason == "not_sent"
    finally:
        await unreachable.aclose()
