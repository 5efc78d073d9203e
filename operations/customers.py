"""A customer's personal data on request: everything held about them, exported, and an erasure
request, honoured where the rules allow. Both are for a supervisor or a legal officer, and both
are recorded in the access log (who, when, through which front end, why; one row per account of
the customer) before anything is shown or erased.

The export reads the read model as the ORM gives it (sealed fields opened): the customer, their
accounts and cases, and per case its payments, promises, contact attempts, tasks, handoffs with
their dossiers, audit entries and approval requests; nothing of another customer.

An erasure request is refused, saying why, while any case of the customer is open or in legal
proceedings; otherwise every closed case of theirs is erased now (`readmodel.retention`: the
anonymised cases, amounts and KPIs stay), and their name and phone number with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.contracts import Stage
from models.retention import ErasureCounts
from operations import access
from operations.access import Looked
from operations.roles import Role
from operations.staff import Person
from readmodel import retention
from readmodel.aging import aged
from readmodel.engine import Database
from readmodel.tables import (
    AccountRow,
    ApprovalRow,
    AuditLogRow,
    CaseRow,
    ContactAttemptRow,
    CustomerRow,
    HandoffRow,
    HumanTaskRow,
    PaymentRecordRow,
    PromiseRecordRow,
)

T = TypeVar("T", bound=SQLModel)

ALLOWED = frozenset({Role.SUPERVISOR, Role.LEGAL})
REQUESTED = "at the customer's request"
# Not data about the customer: a row's surrogate id, and the keyed hash that finds a phone number.
_NOT_EXPORTED = {"id", "mobile_index"}


class NotAllowed(PermissionError):
    pass


def needs(what: str) -> str:
    """Who may: the message when someone else asks."""
    return f"{what} needs a supervisor or legal officer in the staff directory"


def _check(person: Person, what: str) -> None:
    if person.kind != "person" or not person.may(ALLOWED):
        raise NotAllowed(needs(what))


@dataclass(frozen=True)
class Erasure:
    """The answer to an erasure request: done, or refused with the reason."""

    done: bool
    message: str
    cases: tuple[str, ...] = ()
    erased: ErasureCounts = field(default_factory=ErasureCounts)


async def export(
    db: Database, customer_ref: str, person: Person, via: str, reason: str
) -> dict[str, Any] | None:
    """Everything held about the customer, as JSON types; None (and nothing recorded) when the
    read model holds no such customer. Raises `NotAllowed`, or `access.ReasonRequired` before
    anything is read."""
    _check(person, "export")
    async with db.session() as session:
        customer = (
            await session.exec(select(CustomerRow).where(CustomerRow.customer_ref == customer_ref))
        ).first()
        accounts = await _rows(session, AccountRow, col(AccountRow.customer_ref) == customer_ref)
    if customer is None:
        return None
    await _record(db, person, via, Looked.CUSTOMER_RECORD, reason, accounts)
    async with db.session() as session:  # one snapshot of everything
        cases = await _rows(session, CaseRow, col(CaseRow.customer_ref) == customer_ref)
        case_ids = [c.case_id for c in cases]
        of_case: dict[str, Sequence[SQLModel]] = {
            "promises": await _rows(
                session, PromiseRecordRow, col(PromiseRecordRow.case_id).in_(case_ids)
            ),
            "contact_attempts": await _rows(
                session, ContactAttemptRow, col(ContactAttemptRow.case_id).in_(case_ids)
            ),
            "tasks": await _rows(session, HumanTaskRow, col(HumanTaskRow.case_id).in_(case_ids)),
            "handoffs": await _rows(session, HandoffRow, col(HandoffRow.case_id).in_(case_ids)),
            "audit_log": await _rows(
                session,
                AuditLogRow,
                col(AuditLogRow.case_id).in_(case_ids),
                order=(col(AuditLogRow.case_id), col(AuditLogRow.seq)),
            ),
            "approvals": await _rows(session, ApprovalRow, col(ApprovalRow.case_id).in_(case_ids)),
        }
        # A payment is the account's too, even one recorded under no case of this read model.
        payments = await _rows(
            session,
            PaymentRecordRow,
            col(PaymentRecordRow.case_id).in_(case_ids)
            | col(PaymentRecordRow.account_no).in_([a.account_no for a in accounts]),
        )
    exported_at = datetime.now(UTC)
    document: dict[str, Any] = {
        "customer_ref": customer_ref,
        "exported_at": exported_at.isoformat(),
        "exported_by": person.id,
        "customer": _dump(customer),
        "accounts": [_dump(a) for a in accounts],
        "cases": [_dump(c) for c in aged(cases, exported_at)],
        "payments": [_dump(p) for p in payments],
        **{name: [_dump(row) for row in found] for name, found in of_case.items()},
    }
    return document


async def erase(
    db: Database, customer_ref: str, person: Person, via: str, reason: str
) -> Erasure | None:
    """Honours an erasure request where the rules allow; None when the read model holds no
    such customer. Raises `NotAllowed`, or `access.ReasonRequired` before anything is erased."""
    _check(person, "erasure")
    async with db.session() as session:
        customer = (
            await session.exec(
                select(CustomerRow.customer_ref).where(CustomerRow.customer_ref == customer_ref)
            )
        ).first()
        cases = await _rows(session, CaseRow, col(CaseRow.customer_ref) == customer_ref)
        accounts = await _rows(session, AccountRow, col(AccountRow.customer_ref) == customer_ref)
    if customer is None and not cases:
        return None
    blocking = [_why_not(c) for c in cases if c.stage == Stage.LEGAL or c.closed_reason is None]
    if blocking:
        return Erasure(
            done=False,
            message=f"{'; '.join(blocking)}: a customer's personal data is erased only once "
            "every case of theirs is closed and none is in legal proceedings",
        )
    await _record(db, person, via, Looked.ERASURE, reason, accounts)
    now = datetime.now(UTC)
    erased = ErasureCounts()
    for case in cases:
        erased += await retention.erase_case_personal_data(
            db, case.case_id, now=now, by=person.id, why=REQUESTED
        )
    # Also when every case was erased before (the customer kept them for a later case).
    customers = await retention.erase_customer_personal_data(db, customer_ref, now=now)
    erased = replace(erased, customers=customers)
    return Erasure(
        done=True,
        message=f"erased the personal data of customer {customer_ref}: {len(cases)} closed "
        f"case(s) ({erased.cases} newly), {erased.audit_entries} audit entries, "
        f"{erased.handoffs} handoffs, {erased.approvals} approval requests",
        cases=tuple(c.case_id for c in cases),
        erased=erased,
    )


def _why_not(case: CaseRow) -> str:
    if case.stage == Stage.LEGAL:
        return f"{case.case_id} is in legal proceedings"
    return f"{case.case_id} is open (stage {case.stage})"


async def _record(
    db: Database,
    person: Person,
    via: str,
    what: Looked,
    reason: str,
    accounts: Sequence[AccountRow],
) -> None:
    for account_no in [a.account_no for a in accounts] or [""]:
        await access.record(db, person, via, what, reason, account_no=account_no)


async def _rows(
    session: AsyncSession, table: type[T], *where: Any, order: Sequence[Any] = ()
) -> list[T]:
    query = select(table).where(*where).order_by(*(order or (col(table.id),)))  # type: ignore[attr-defined]
    return list(await session.exec(query))


def _dump(row: SQLModel) -> dict[str, Any]:
    return row.model_dump(mode="json", exclude=_NOT_EXPORTED)
