"""Erasing a closed case's personal data from the read model, for the retention period or a
customer's request, while the anonymised case, its amounts and its KPIs stay.

What goes: the customer's name and phone number (unless a case of theirs is still open, or
closed too recently to be erased), the free text of the case's audit entries (their kind, time,
actor and order stay, so a timeline still shows what happened and who acted), its handoffs'
reasons and dossiers, and its approvals' inputs. What stays: every case, account, payment,
promise, task, contact attempt and bucket move row, as written: the KPIs read only those.

An erased case gets an audit entry of its own (`ERASED_KIND`, at the erasure's time, naming
who erased and why). A case counts as erased while that entry is at least as new as the case
row, so erasing again changes nothing, and a case written to after its erasure (reopened under
the same id, then closed again) is due once more. Free text is matched by kind and case only,
never by its content: the columns are sealed at rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Exists, exists, null
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from models.case_events import PersonalDataErased, fields_of
from models.case_writes import AuditEntry
from models.retention import ErasureCounts
from readmodel import writes
from readmodel.complaints import ComplaintRegisterRow
from readmodel.engine import Database
from readmodel.tables import ApprovalRow, AuditLogRow, CaseRow, CustomerRow, HandoffRow

ERASED = "[erased]"
ERASED_KIND = PersonalDataErased.KIND
# The erasure entry's seq: past any the case wrote before `at`, whose seqs count up from a base
# of its opening second * 1000 (`workflows.case`).
_SEQ_PER_SECOND = 1000


def _erased_marker(case: type[CaseRow] | CaseRow) -> Exists:
    """An erasure entry at least as new as the case row."""
    return exists().where(
        col(AuditLogRow.case_id) == case.case_id,
        col(AuditLogRow.kind) == ERASED_KIND,
        col(AuditLogRow.at) >= case.updated_at,
    )


async def due_for_erasure(db: Database, *, before: datetime, limit: int) -> list[str]:
    """Closed cases whose close (their last write) is older than `before` and that are not
    erased yet, oldest first."""
    async with db.session() as session:
        found = await session.exec(
            select(CaseRow.case_id)
            .where(
                col(CaseRow.closed_reason).is_not(None),
                col(CaseRow.updated_at) < before,
                ~_erased_marker(CaseRow),
            )
            .order_by(col(CaseRow.updated_at), col(CaseRow.case_id))
            .limit(limit)
        )
        return list(found)


async def erase_case_personal_data(
    db: Database,
    case_id: str,
    *,
    now: datetime,
    keep_closed_since: datetime | None = None,
    by: str = "retention",
    why: str = "retention period passed",
) -> ErasureCounts:
    """Erases the personal data of the closed case `case_id`, in one transaction. The
    customer's name and phone number go too, unless another case of theirs is open or closed
    at or after `keep_closed_since`. An open, unknown or already erased case: nothing changes
    (zero counts)."""
    async with db.session() as session:
        case = (await session.exec(select(CaseRow).where(CaseRow.case_id == case_id))).first()
        if case is None or case.closed_reason is None:
            return ErasureCounts()
        if (await session.exec(select(_erased_marker(case)))).one():
            return ErasureCounts()
        audit = await session.exec(
            update(AuditLogRow)
            .where(col(AuditLogRow.case_id) == case_id, col(AuditLogRow.kind) != ERASED_KIND)
            .values(detail=ERASED, data={})
        )
        handoffs = await session.exec(
            update(HandoffRow)
            .where(col(HandoffRow.case_id) == case_id)
            .values(reason=ERASED, dossier=null())
        )
        approvals = await session.exec(
            update(ApprovalRow).where(col(ApprovalRow.case_id) == case_id).values(input={})
        )
        await session.exec(
            update(ComplaintRegisterRow)
            .where(col(ComplaintRegisterRow.case_id) == case_id)
            .values(asks=ERASED, response=ERASED)
        )
        customers = 0
        if not await _customer_keeps_data(session, case, keep_closed_since):
            customers = await _erase_customer(session, case.customer_ref, now)
        # Never older than the case row, or the case would not count as erased.
        at = max(now, case.updated_at)
        erased = PersonalDataErased(why=why)
        marker = AuditEntry(
            case_id=case_id,
            seq=int(at.timestamp()) * _SEQ_PER_SECOND + _SEQ_PER_SECOND - 1,
            at=at,
            kind=ERASED_KIND,
            detail=erased.detail(),
            actor=by,
            data=fields_of(erased),
        )
        await writes.append_audit(session, entries=[marker])
    return ErasureCounts(
        cases=1,
        customers=customers,
        audit_entries=audit.rowcount,
        handoffs=handoffs.rowcount,
        approvals=approvals.rowcount,
    )


async def erase_customer_personal_data(db: Database, customer_ref: str, *, now: datetime) -> int:
    """The customer's name and phone number, whatever their cases say (the caller checks);
    1 when the customer is known, else 0."""
    async with db.session() as session:
        return await _erase_customer(session, customer_ref, now)


async def is_erased(db: Database, case_id: str) -> bool:
    async with db.session() as session:
        case = (await session.exec(select(CaseRow).where(CaseRow.case_id == case_id))).first()
        if case is None:
            return False
        return bool((await session.exec(select(_erased_marker(case)))).one())


async def _customer_keeps_data(
    session: AsyncSession, case: CaseRow, keep_closed_since: datetime | None
) -> bool:
    others: Sequence[tuple[str | None, datetime]] = (
        await session.exec(
            select(CaseRow.closed_reason, CaseRow.updated_at).where(
                CaseRow.customer_ref == case.customer_ref, CaseRow.case_id != case.case_id
            )
        )
    ).all()
    return any(
        reason is None or (keep_closed_since is not None and at >= keep_closed_since)
        for reason, at in others
    )


async def _erase_customer(session: AsyncSession, customer_ref: str, now: datetime) -> int:
    stored = (
        await session.exec(
            select(CustomerRow.updated_at).where(CustomerRow.customer_ref == customer_ref)
        )
    ).first()
    if stored is None:
        return 0
    values: dict[str, object] = {
        "name": None,
        "mobile": "",
        "address": None,
        # Newer than any write it replaces, so a late retry of one never restores the data.
        "updated_at": max(now, stored),
    }
    if hasattr(CustomerRow, "mobile_index"):
        values["mobile_index"] = None
    result = await session.exec(
        update(CustomerRow).where(col(CustomerRow.customer_ref) == customer_ref).values(values)
    )
    return result.rowcount
