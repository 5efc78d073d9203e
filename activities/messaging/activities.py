"""Sending a contact exactly once, and applying the provider's delivery reports.

Twilio's create takes no idempotency key, so the attempts table keeps the promise:
1. reserve: the row for `idempotency_key` (UNIQUE) is inserted, or claimed, with reason
   `sending` before the provider is called. A row that already has a provider id or a final
   status is answered from the table and nothing goes out again.
2. send; 3. record the provider id and status. A permanent refusal is recorded as FAILED and
   returned; a transient error is raised for Temporal to retry.

The hard case is a row left `sending` with no provider id (a worker crash, a lost response, a
timeout): Twilio may or may not hold the message. A retry never resends blindly:
- an error that proves nothing reached Twilio (429, no connection) marks the row `not_sent`,
  and the retry sends at once;
- otherwise the retry lists what Twilio holds for that number since the send began (the same
  body, for SMS) and adopts the oldest record no other attempt has claimed;
- only if nothing is found, and the send began longer ago than `settle` (more than the HTTP
  timeout, so no earlier request can still be in flight), does it send again. Until then it
  raises, and Temporal retries later.
Twilio lists a message as soon as its create returns, so a message that went out is found and
never sent twice. We chose this over "hold for a human and never resend", which is just as safe
against doubles but turns every Twilio 5xx into a missed reminder and a manual check. The status
callback URL carries the key as well, so a delivery report can settle the row even sooner.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.messaging import delivery, templates
from activities.messaging.delivery import DeliveryStatusInput as DeliveryStatusInput
from activities.messaging.delivery import advance_status as _advance
from activities.messaging.delivery import update_attempts as _update
from activities.messaging.privacy import mask_phone
from activities.messaging.senders import (
    PermanentSendError,
    ProviderReceipt,
    Sender,
    TransientSendError,
)
from models.contracts import AttemptStatus, ContactOutcome, SendInput, SendResult
from models.db import Database
from models.strategy import Channel
from models.tables import ContactAttemptRow as Row

log = logging.getLogger(__name__)

SENDING = "sending"  # reserved, and the provider may be holding it: settle before resending
NOT_SENT = "not_sent"  # the provider surely does not hold it: a retry sends at once
UNCONFIRMED = "unconfirmed: the provider may have placed this call; never placed twice"

# Twilio's clock and ours may differ; a record this much older than the send still matches.
_CLOCK_SKEW = timedelta(minutes=2)


class MessagingActivities:
    def __init__(
        self, sender: Sender, db: Database, *, settle: timedelta = timedelta(seconds=60)
    ) -> None:
        self._sender = sender
        self._db = db
        self._settle = settle

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
        applied = await delivery.apply_delivery_status(self._db, req)
        return applied.outcome if applied is not None else None

    async def _reserve(self, req: SendInput) -> tuple[Row, bool]:
        """The attempt's row, and whether this call has claimed it for sending."""
        existing = await self._load(req.idempotency_key)
        if existing is None:
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
            try:
                async with self._db.session() as s:
                    s.add(row)
                return row, True
            except IntegrityError:
                existing = await self._load(req.idempotency_key)  # a concurrent attempt won
                if existing is None:
                    raise
        if existing.provider_id is None and existing.reason == NOT_SENT:
            async with self._db.session() as s:
                claimed = await _update(
                    s,
                    [_key(req), _unsent(), col(Row.reason) == NOT_SENT],
                    reason=SENDING,
                    updated_at=_now(),
                )
            if claimed:
                return existing, True
            existing = await self._load(req.idempotency_key) or existing
        return existing, False

    async def _settle_in_doubt(self, req: SendInput, body: str, row: Row) -> SendResult | None:
        """An earlier send's outcome is unknown: adopt what Twilio holds, or claim a resend
        (returns None), or raise so that Temporal asks again later.

        Not for calls: Twilio's call list shows neither a call's script nor its callback URL,
        so a call placed for another case to the same number would look like this one. A call
        in doubt is therefore never adopted and never placed again; it is recorded as
        unconfirmed (its status callback, which carries the key, settles it if it was placed).
        One missed automated call is better than a customer called twice.
        """
        if req.channel == Channel.VOICE:
            async with self._db.session() as s:
                await _update(s, [_key(req), _unsent()], reason=UNCONFIRMED, updated_at=_now())
                await _advance(s, [_key(req)], AttemptStatus.SENT, None)
                row = (
                    await s.exec(
                        select(Row).where(_key(req)).execution_options(populate_existing=True)
                    )
                ).one()
            log.warning(
                "call %s to %s: outcome unknown; recorded as unconfirmed, not placed again",
                req.idempotency_key,
                mask_phone(req.to),
            )
            return _result(row)
        found = await self._sender.find_sent(
            channel=req.channel, to=req.to, body=body, since=row.updated_at - _CLOCK_SKEW
        )
        async with self._db.session() as s:
            ids = [r.provider_id for r in found]
            taken = set(
                (await s.exec(select(Row.provider_id).where(col(Row.provider_id).in_(ids)))).all()
            )
            mine = next((r for r in found if r.provider_id not in taken), None)
            if mine is not None:
                log.info(
                    "attempt %s to %s found at the provider as %s; not sent again",
                    req.idempotency_key,
                    mask_phone(req.to),
                    mine.provider_id,
                )
                return await _record(s, req, mine)
            now = _now()
            claimed = await _update(
                s,
                [_key(req), _unsent(), col(Row.updated_at) <= now - self._settle],
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

    async def _send(self, req: SendInput, body: str) -> SendResult:
        try:
            receipt = await self._sender.send(
                channel=req.channel, to=req.to, body=body, idempotency_key=req.idempotency_key
            )
        except PermanentSendError as exc:
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
                    [_key(req), _unsent()],
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
            if not exc.maybe_sent:
                async with self._db.session() as s:
                    await _update(
                        s, [_key(req), _unsent(), col(Row.reason) == SENDING], reason=NOT_SENT
                    )
            log.warning(
                "attempt %s to %s: %s (maybe sent: %s)",
                req.idempotency_key,
                mask_phone(req.to),
                exc.reason,
                exc.maybe_sent,
            )
            raise
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
    """Stores the provider id; a status callback may have come first and moved the status on."""
    await _update(
        s, [_key(req), _unsent()], provider_id=receipt.provider_id, reason="", updated_at=_now()
    )
    await _advance(s, [_key(req)], receipt.status, None)
    row = (
        await s.exec(select(Row).where(_key(req)).execution_options(populate_existing=True))
    ).one()
    return _result(row)


def _key(req: SendInput) -> ColumnElement[bool]:
    return col(Row.idempotency_key) == req.idempotency_key


def _unsent() -> ColumnElement[bool]:
    return col(Row.provider_id).is_(None) & (col(Row.status) == AttemptStatus.QUEUED.value)


def _result(row: Row) -> SendResult:
    return SendResult(
        idempotency_key=row.idempotency_key,
        status=AttemptStatus(row.status),
        provider_id=row.provider_id or "",
        error_code=row.error_code,
        reason="" if row.reason in (SENDING, NOT_SENT) else row.reason,
    )


def _now() -> datetime:
    return datetime.now(UTC)
