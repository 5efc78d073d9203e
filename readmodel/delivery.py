"""Applying a provider's delivery report to its attempt row.

One function for both ways a report arrives: the `apply_delivery_status` activity and the Twilio
status webhook (which then signals the case itself: this module only writes the row). A status
only ever moves forward (unconfirmed, queued, sent, then a final one) and the first final status
stays, so a report applied twice, or after a later one, changes nothing. Any report settles an
unconfirmed call: it proves Twilio placed it, and names it. Every write is a conditional UPDATE,
which also makes two reports racing each other safe."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.contracts import AttemptStatus, ContactOutcome
from models.messaging import DeliveryStatusInput, twilio_status
from models.strategy import Channel
from readmodel.engine import Database
from readmodel.tables import ContactAttemptRow as Row

log = logging.getLogger(__name__)

# Every other status is final: 2. An unconfirmed call is the least known of all.
_RANK = {AttemptStatus.UNCONFIRMED: -1, AttemptStatus.QUEUED: 0, AttemptStatus.SENT: 1}


@dataclass(frozen=True)
class AppliedStatus:
    """The attempt's status once the report is applied, and the case to tell about it."""

    case_id: str
    outcome: ContactOutcome


async def apply_delivery_status(
    db: Database, *, report: DeliveryStatusInput
) -> AppliedStatus | None:
    """Applies `report` to its attempt; None for an unknown attempt or status."""
    req = report
    async with db.session() as s:
        row = await _find(s, req)
        if row is None:
            log.info("status %r for an unknown attempt %s", req.status, req.provider_id)
            return None
        status = twilio_status(Channel(row.channel), req.status)
        if status is None:
            return None
        if req.provider_id and row.provider_id is None:
            await update_attempts(
                s,
                where=[col(Row.id) == row.id, col(Row.provider_id).is_(None)],
                provider_id=req.provider_id,
                reason="",
            )
        code = (
            req.error_code if status in (AttemptStatus.UNDELIVERED, AttemptStatus.FAILED) else None
        )
        await advance_status(s, where=[col(Row.id) == row.id], status=status, code=code)
        if req.duration_seconds is not None and req.duration_seconds >= 0:
            await update_attempts(
                s, where=[col(Row.id) == row.id], duration_seconds=req.duration_seconds
            )
        await s.refresh(row)
        return AppliedStatus(
            case_id=row.case_id,
            outcome=ContactOutcome(
                idempotency_key=row.idempotency_key,
                status=AttemptStatus(row.status),
                error_code=row.error_code,
            ),
        )


async def advance_status(
    s: AsyncSession, *, where: list[ColumnElement[bool]], status: AttemptStatus, code: int | None
) -> None:
    """Moves the matching rows to `status` if that is forward of where they are."""
    lower = [st.value for st in AttemptStatus if _rank(st) < _rank(status)]
    values: dict[str, Any] = {"status": status.value, "updated_at": datetime.now(UTC)}
    if code is not None:
        values["error_code"] = code
    await update_attempts(s, where=[*where, col(Row.status).in_(lower)], **values)


async def update_attempts(
    s: AsyncSession, *, where: Iterable[ColumnElement[bool]], **values: Any
) -> bool:
    """One conditional UPDATE; True when it changed a row. The condition makes it race-safe.
    No row the session holds is kept in step (`synchronize_session=False`): none is, and the
    ORM's default compiled the condition into Python at every call (BENCHMARKS.md, issue 16)."""
    stmt = update(Row).where(*where).values(**values)
    result = await s.exec(stmt.execution_options(synchronize_session=False))
    return bool(result.rowcount)


def _rank(status: str) -> int:
    return _RANK.get(AttemptStatus(status), 2)


async def _find(s: AsyncSession, req: DeliveryStatusInput) -> Row | None:
    if req.idempotency_key:
        row = (await s.exec(select(Row).where(Row.idempotency_key == req.idempotency_key))).first()
        if row is not None:
            if req.provider_id and row.provider_id and row.provider_id != req.provider_id:
                log.warning("status for %s names another attempt; ignored", req.provider_id)
                return None
            return row
    if req.provider_id:
        return (await s.exec(select(Row).where(Row.provider_id == req.provider_id))).first()
    return None
