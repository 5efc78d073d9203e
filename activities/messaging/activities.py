"""Sending a contact exactly once, and applying the provider's delivery reports.

Twilio's create takes no idempotency key, so the attempts table keeps the promise:
1. reserve: the row for `idempotency_key` (UNIQUE) is inserted, or claimed, with reason
   `sending` before the provider is called. A row that already has a provider id or a final
   status is answered from the table and nothing goes out again.
2. send; 3. record the provider id and status. A permanent refusal is recorded as FAILED and
   returned; a transient error is raised for Temporal to retry.

The hard case is a row left `sending` with no provider id (a worker crash, a lost response, a
timeout): Twilio may or may not hold the contact. A retry never resends blindly, and never
records as sent what Twilio does not hold:
- an error that proves nothing reached Twilio (429, no connection) marks the row `not_sent`,
  and the retry sends at once;
- otherwise the retry asks Twilio what it holds for that number since the send began: for a
  message, the messages with the same body, and the oldest no other attempt has claimed is
  adopted; for a call, the calls queued or started since (a call's script is not listed);
- a call found is adopted, with its provider id, only when it cannot be another attempt's:
  it is the one call no attempt has claimed, and no other attempt to that number is in doubt
  (a customer with two accounts is two cases calling one number; the attempts table holds no
  number, so the case's customer row is asked);
- if nothing is found, and the send began longer ago than `settle` (more than the HTTP
  timeout, so no earlier request can still be in flight), it sends again, under the same key.
  Until then it raises, and Temporal retries later;
- a call that stays undecided (Twilio's list keeps failing, or shows calls this attempt cannot
  be told from) is asked about again until `unconfirmed_after` has passed since the send began,
  then recorded UNCONFIRMED and never placed again. The case counts an unconfirmed call as a
  contact against every cap (the policy reads it as effective and as unanswered), because it
  may have rung; a supervisor sees the status in the attempts table. Its status callback,
  which carries the key, still settles it if Twilio placed it.
Twilio lists a message or call as soon as its create returns, so one that went out is found
and never sent twice, and one that did not is not counted as a contact (only an unconfirmed
call is, as it may have rung). We chose this over "hold for a human and never resend", which
is just as safe against doubles but turns every Twilio 5xx into a missed reminder and a manual
check. The status callback URL carries the key as well, so a delivery report can settle the
row even sooner, and a call claimed that way is no longer a candidate for another attempt.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import ColumnElement, bindparam, func
from sqlalchemy import select as select_columns
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.messaging import templates
from activities.messaging.senders import (
    PermanentSendError,
    ProviderReceipt,
    Sender,
    TransientSendError,
)
from activities.metrics import CONTACTS, ContactMetrics
from models.contracts import AttemptStatus, ContactOutcome, SendInput, SendResult
from models.messaging import DeliveryStatusInput
from models.privacy import mask_phone
from models.strategy import Channel
from readmodel import delivery, sealing, writes
from readmodel.delivery import advance_status as _advance
from readmodel.delivery import update_attempts as _update
from readmodel.engine import Database
from readmodel.statements import execute, table_of
from readmodel.tables import CaseRow, CustomerRow
from readmodel.tables import ContactAttemptRow as Row

log = logging.getLogger(__name__)

SENDING = "sending"  # reserved, and the provider may be holding it: settle before resending
NOT_SENT = "not_sent"  # the provider surely does not hold it: a retry sends at once

# Twilio's clock and ours may differ; a record this much older than the send still matches.
_CLOCK_SKEW = timedelta(minutes=2)


class MessagingActivities:
    def __init__(
        self,
        sender: Sender,
        db: Database,
        *,
        settle: timedelta = timedelta(seconds=60),
        unconfirmed_after: timedelta = timedelta(minutes=10),
        metrics: ContactMetrics = CONTACTS,
    ) -> None:
        self._sender = sender
        self._db = db
        self._settle = settle
        self._unconfirmed_after = unconfirmed_after
        self._metrics = metrics

    @activity.defn(name="send_contact")
    async def send_contact(self, req: SendInput) -> SendResult:
        body = _render(req)
        row, claimed = await self._reserve(req)
        if not claimed:
            if row.provider_id or row.status != AttemptStatus.QUEUED:
                return _result(row)
            settled = await self._settle_in_doubt(req, body, row)
            if settled is not None:
                return settled
        return await self._send(req, body)

    @activity.defn(name="apply_delivery_status")
    async def apply_delivery_status(self, req: DeliveryStatusInput) -> ContactOutcome | None:
        """Idempotent and order-safe: a status only ever moves forward (queued, sent, final),
        and the first final status stays. None for an unknown attempt or status."""
        applied = await delivery.apply_delivery_status(self._db, report=req)
        return applied.outcome if applied is not None else None

    async def _reserve(self, req: SendInput) -> tuple[Row, bool]:
        """The attempt's row, and whether this call has claimed it for sending."""
        now = _now()
        row = Row(
            idempotency_key=req.idempotency_key,
            case_id=req.case_id,
            account_no=req.account_no,
            channel=req.channel.value,
            template=req.template,
            status=AttemptStatus.QUEUED.value,
            reason=SENDING,
            created_at=now,
            updated_at=now,
        )
        # Inserted unless the key is taken (a retry, or a concurrent attempt that won): one
        # statement for a first attempt, which is nearly every one.
        async with self._db.session() as s:
            if await writes.insert_attempt(s, row=row):
                return row, True
        existing = await self._load(req.idempotency_key)
        if existing is None:
            raise RuntimeError(f"attempt {req.idempotency_key} is neither new nor stored")
        if existing.provider_id is None and existing.reason == NOT_SENT:
            async with self._db.session() as s:
                claimed = await _update(
                    s,
                    where=[_key(req), _unsent(), col(Row.reason) == NOT_SENT],
                    reason=SENDING,
                    updated_at=_now(),
                )
            if claimed:
                return existing, True
            existing = await self._load(req.idempotency_key) or existing
        return existing, False

    async def _settle_in_doubt(self, req: SendInput, body: str, row: Row) -> SendResult | None:
        """An earlier send's outcome is unknown: adopt what Twilio holds, or claim a resend
        (returns None), or raise so that Temporal asks again later. A call still undecided
        `unconfirmed_after` since its send began is recorded unconfirmed instead."""
        began = row.updated_at
        since = began - _CLOCK_SKEW
        voice = req.channel == Channel.VOICE
        try:
            found = await self._sender.find_sent(
                channel=req.channel, to=req.to, body=body, since=since
            )
        except TransientSendError as exc:
            self._metrics.provider_error(exc.code)
            if voice and _now() - began >= self._unconfirmed_after:
                async with self._db.session() as s:
                    return await self._unconfirm(s, req, "Twilio's call list could not be read")
            log.warning(
                "attempt %s to %s: %s; asking again later",
                req.idempotency_key,
                mask_phone(req.to),
                exc.reason,
            )
            raise
        async with self._db.session() as s:
            ids = [r.provider_id for r in found]
            taken = set(
                (await s.exec(select(Row.provider_id).where(col(Row.provider_id).in_(ids)))).all()
            )
            free = [r for r in found if r.provider_id not in taken]
            if voice and free:
                # A call of another attempt to this number, still in doubt, looks the same.
                rivals = await _calls_in_doubt(s, req, since - self._settle - _CLOCK_SKEW)
                if len(free) > 1 or rivals:
                    why = (
                        f"unclaimed calls to the number since the send: {len(free)}, "
                        f"other attempts to it in doubt: {rivals}"
                    )
                    if _now() - began >= self._unconfirmed_after:
                        return await self._unconfirm(s, req, why)
                    raise TransientSendError(f"cannot tell this call yet: {why}", maybe_sent=True)
            if free:
                log.info(
                    "attempt %s to %s found at the provider as %s; not sent again",
                    req.idempotency_key,
                    mask_phone(req.to),
                    free[0].provider_id,
                )
                return await _record(s, req, free[0])
            now = _now()
            claimed = await _update(
                s,
                where=[_key(req), _unsent(), col(Row.updated_at) <= now - self._settle],
                reason=SENDING,
                updated_at=now,
            )
        if claimed:
            log.warning(
                "attempt %s to %s: earlier send not found at the provider; sending again",
                req.idempotency_key,
                mask_phone(req.to),
            )
            return None
        current = await self._load(req.idempotency_key)
        if current is not None and (current.provider_id or current.status != AttemptStatus.QUEUED):
            return _result(current)
        raise TransientSendError(
            "an earlier send of this attempt is not settled yet", maybe_sent=True
        )

    async def _unconfirm(self, s: AsyncSession, req: SendInput, why: str) -> SendResult:
        """Records the call as unconfirmed (unless something settled it meanwhile)."""
        unconfirmed = await _update(
            s,
            where=[_key(req), _unsent()],
            status=AttemptStatus.UNCONFIRMED.value,
            reason=f"unconfirmed: {why}; never placed again",
            updated_at=_now(),
        )
        row = (
            await s.exec(select(Row).where(_key(req)).execution_options(populate_existing=True))
        ).one()
        if unconfirmed:
            self._metrics.contact(req.channel, "unconfirmed")
        log.warning(
            "call %s to %s: recorded as %s (%s)",
            req.idempotency_key,
            mask_phone(req.to),
            row.status,
            why,
        )
        return _result(row)

    async def _send(self, req: SendInput, body: str) -> SendResult:
        try:
            receipt = await self._sender.send(
                channel=req.channel, to=req.to, body=body, idempotency_key=req.idempotency_key
            )
        except PermanentSendError as exc:
            self._metrics.contact(req.channel, "failed")
            self._metrics.provider_error(str(exc.code))
            log.info(
                "attempt %s to %s refused: %s %s",
                req.idempotency_key,
                mask_phone(req.to),
                exc.code,
                exc.reason,
            )
            async with self._db.session() as s:
                await _update(
                    s,
                    where=[_key(req), _unsent()],
                    status=AttemptStatus.FAILED.value,
                    error_code=exc.code,
                    reason=exc.reason,
                    updated_at=_now(),
                )
            return SendResult(
                idempotency_key=req.idempotency_key,
                status=AttemptStatus.FAILED,
                error_code=exc.code,
                reason=exc.reason,
            )
        except TransientSendError as exc:
            self._metrics.contact(req.channel, "error")
            self._metrics.provider_error(exc.code)
            if not exc.maybe_sent:
                async with self._db.session() as s:
                    await _update(
                        s, where=[_key(req), _unsent(), col(Row.reason) == SENDING], reason=NOT_SENT
                    )
            log.warning(
                "attempt %s to %s: %s (maybe sent: %s)",
                req.idempotency_key,
                mask_phone(req.to),
                exc.reason,
                exc.maybe_sent,
            )
            raise
        self._metrics.contact(req.channel, "accepted")
        async with self._db.session() as s:
            return await _record(s, req, receipt)

    async def _load(self, key: str) -> Row | None:
        async with self._db.session() as s:
            return (await s.exec(select(Row).where(Row.idempotency_key == key))).first()


def _render(req: SendInput) -> str:
    try:
        if templates.is_voice(req.template) != (req.channel == Channel.VOICE):
            raise ValueError(f"template {req.template!r} is not for {req.channel}")
        return templates.render(req.template, req.language, req.params)
    except ValueError as exc:
        raise ApplicationError(str(exc), type="TemplateError", non_retryable=True) from None


async def _record(s: AsyncSession, req: SendInput, receipt: ProviderReceipt) -> SendResult:
    """Stores the provider id; a status callback may have come first and moved the status on.
    The provider's receipt outranks an unconfirmed verdict that a slower retry reached."""
    open_ = col(Row.status).in_([AttemptStatus.QUEUED.value, AttemptStatus.UNCONFIRMED.value])
    await _update(
        s,
        where=[_key(req), col(Row.provider_id).is_(None), open_],
        provider_id=receipt.provider_id,
        reason="",
        updated_at=_now(),
    )
    await _advance(s, where=[_key(req)], status=receipt.status, code=None)
    stored = await execute(s, _SETTLED, {"key": req.idempotency_key})
    return _result(stored.one())


def _key(req: SendInput) -> ColumnElement[bool]:
    return col(Row.idempotency_key) == req.idempotency_key


async def _calls_in_doubt(s: AsyncSession, req: SendInput, since: datetime) -> int:
    """Other calls to `req.to` that may be what Twilio holds: their send began (or they were
    found undecidable) since `since`, and they have no provider id. The attempts table keeps no
    number, so it is the customers' mobile, through the case (by its blind index: the number is
    sealed at rest)."""
    in_doubt = (col(Row.status) == AttemptStatus.QUEUED.value) & (col(Row.reason) == SENDING)
    query = (
        select(func.count())
        .select_from(Row)
        .join(CaseRow, col(CaseRow.case_id) == col(Row.case_id))
        .join(CustomerRow, col(CustomerRow.customer_ref) == col(CaseRow.customer_ref))
        .where(
            col(CustomerRow.mobile_index).in_(sealing.current().indexes(req.to)),
            col(Row.channel) == Channel.VOICE.value,
            col(Row.idempotency_key) != req.idempotency_key,
            col(Row.provider_id).is_(None),
            in_doubt | (col(Row.status) == AttemptStatus.UNCONFIRMED.value),
            col(Row.updated_at) >= since,
        )
    )
    return int((await s.exec(query)).one())


def _unsent() -> ColumnElement[bool]:
    return col(Row.provider_id).is_(None) & (col(Row.status) == AttemptStatus.QUEUED.value)


class _Settled(Protocol):
    """What a send's result is read from: an attempt's row (or those of its columns)."""

    @property
    def idempotency_key(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def provider_id(self) -> str | None: ...
    @property
    def error_code(self) -> int | None: ...
    @property
    def reason(self) -> str: ...


_ATTEMPTS = table_of(Row)
# The columns of a send's result, read without loading the row through the ORM.
_SETTLED = select_columns(
    _ATTEMPTS.c.idempotency_key,
    _ATTEMPTS.c.status,
    _ATTEMPTS.c.provider_id,
    _ATTEMPTS.c.error_code,
    _ATTEMPTS.c.reason,
).where(_ATTEMPTS.c.idempotency_key == bindparam("key"))


def _result(row: _Settled) -> SendResult:
    return SendResult(
        idempotency_key=row.idempotency_key,
        status=AttemptStatus(row.status),
        provider_id=row.provider_id or "",
        error_code=row.error_code,
        reason="" if row.reason in (SENDING, NOT_SENT) else row.reason,
    )


def _now() -> datetime:
    return datetime.now(UTC)
