"""The read model's writes land once, however often Temporal retries the activities that
make them."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, TypeVar

from sqlalchemy import text
from sqlmodel import SQLModel, col, select

from models.case_writes import (
    AuditEntry,
    CaseSnapshot,
    CaseWrite,
    PaymentRow,
    PromiseRow,
)
from models.contracts import (
    Account,
    CaseInput,
    ClosureReason,
    ContactPoints,
    RefusalReason,
    RefusedAttempt,
    Stage,
)
from models.departments import HandoffWrite
from models.strategy import Channel, Segment
from models.tasks import TaskKind, TaskOutcome, TaskRecord, TaskStatus
from readmodel import writes
from readmodel.engine import Database
from readmodel.queries import get_case, list_attempts
from readmodel.tables import (
    AccountRow,
    AuditLogRow,
    CaseRow,
    CustomerRow,
    HandoffRow,
    HumanTaskRow,
    PaymentRecordRow,
    PromiseRecordRow,
)

T = TypeVar("T", bound=SQLModel)

OPENED_AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LATER = OPENED_AT + timedelta(hours=2)
ACCOUNT = Account(
    account_no="6222000011112222",
    product="credit_card",
    currency="CNY",
    outstanding_minor=3_500_000_00,  # above 2**31: minor units need BIGINT
    overdue_minor=120_000,
    oldest_due_date=date(2026, 1, 25),
)
CASE_ID = f"case-{ACCOUNT.account_no}"
OPENED = CaseInput(
    customer_ref="C-1001",
    contact=ContactPoints(mobile="+8613800138000"),
    account=ACCOUNT,
    customer_name="",
)


SNAPSHOT = CaseSnapshot(
    case_id=CASE_ID,
    account_no=ACCOUNT.account_no,
    customer_ref=OPENED.customer_ref,
    stage=Stage.EARLY,
    segment=Segment.MEDIUM,
    score=42,
    strategy_version="default@1",
    days_past_due=35,
    currency="CNY",
    outstanding_minor=ACCOUNT.outstanding_minor,
    overdue_minor=ACCOUNT.overdue_minor,
    closed_reason=None,
    updated_at=OPENED_AT,
)


def snapshot(at: datetime = OPENED_AT, **changes: Any) -> CaseSnapshot:
    return replace(SNAPSHOT, updated_at=at, **changes)


def audit(seq: int, kind: str = "note", at: datetime = OPENED_AT) -> AuditEntry:
    return AuditEntry(case_id=CASE_ID, seq=seq, at=at, kind=kind, detail=f"entry {seq}")


def promise(status: str = "open", resolved_at: datetime | None = None) -> PromiseRow:
    return PromiseRow(
        key=f"{CASE_ID}/p1",
        amount_minor=50_000,
        currency="CNY",
        promised_date=date(2026, 3, 10),
        made_at=OPENED_AT,
        status=status,
        resolved_at=resolved_at,
    )


def refusal(key: str = f"{CASE_ID}/r1", at: datetime = OPENED_AT) -> RefusedAttempt:
    return RefusedAttempt(
        idempotency_key=key,
        case_id=CASE_ID,
        account_no=ACCOUNT.account_no,
        channel=Channel.SMS,
        template="reminder_1",
        reason=RefusalReason.OUTSIDE_WINDOW,
        at=at,
        retry_at=at + timedelta(hours=10),
    )


async def rows(db: Database, table: type[T]) -> list[T]:
    async with db.session() as session:
        return list((await session.exec(select(table).order_by(text("id")))).all())


async def test_the_first_write_opens_the_case_with_its_customer_and_account(
    database: Database,
) -> None:
    await writes.write_case(
        database, write=CaseWrite(snapshot=snapshot(), audit=(audit(1),), opened=OPENED)
    )

    case = await get_case(database, account_no=ACCOUNT.account_no)
    assert case is not None
    assert (case.case_id, case.stage, case.segment) == (CASE_ID, "early", "medium")
    assert case.outstanding_minor == 3_500_000_00
    assert case.opened_at == case.updated_at == OPENED_AT
    [customer] = await rows(database, CustomerRow)
    assert (customer.customer_ref, customer.mobile, customer.name) == (
        "C-1001",
        OPENED.contact.mobile,
        None,
    )
    [account] = await rows(database, AccountRow)
    assert (account.account_no, account.oldest_due_date) == (ACCOUNT.account_no, date(2026, 1, 25))


async def test_a_later_write_updates_the_case_row_instead_of_adding_one(
    database: Database,
) -> None:
    await writes.write_case(database, write=CaseWrite(snapshot=snapshot(), opened=OPENED))

    closed = snapshot(
        LATER, stage=Stage.CLOSED, outstanding_minor=0, closed_reason=ClosureReason.PAID
    )
    await writes.write_case(database, write=CaseWrite(snapshot=closed))

    [case] = await rows(database, CaseRow)
    assert (case.stage, case.outstanding_minor, case.closed_reason) == ("closed", 0, "paid")
    assert case.opened_at == OPENED_AT
    assert case.updated_at == LATER


async def test_a_late_retry_of_an_older_write_does_not_roll_the_case_back(
    database: Database,
) -> None:
    first = CaseWrite(snapshot=snapshot(), opened=OPENED)
    await writes.write_case(database, write=first)
    await writes.write_case(
        database, write=CaseWrite(snapshot=snapshot(LATER, stage=Stage.COLLECTOR))
    )

    await writes.write_case(database, write=first)

    case = await get_case(database, account_no=ACCOUNT.account_no)
    assert case is not None
    assert (case.stage, case.updated_at) == ("collector", LATER)


async def test_a_retried_write_adds_no_second_audit_entry_or_payment(database: Database) -> None:
    write = CaseWrite(
        snapshot=snapshot(LATER),
        audit=(audit(1), audit(2, "payment", LATER)),
        payments=(PaymentRow("PAY-1", 20_000, "CNY", LATER),),
        opened=OPENED,
    )

    await writes.write_case(database, write=write)
    await writes.write_case(database, write=write)

    assert [(e.seq, e.kind) for e in await rows(database, AuditLogRow)] == [
        (1, "note"),
        (2, "payment"),
    ]
    [payment] = await rows(database, PaymentRecordRow)
    assert (payment.payment_ref, payment.amount_minor, payment.case_id) == (
        "PAY-1",
        20_000,
        CASE_ID,
    )


async def test_a_payment_ref_is_unique_per_account_only(database: Database) -> None:
    other = snapshot(account_no="6222000099990000", case_id="case-6222000099990000")
    payment = PaymentRow("PAY-1", 20_000, "CNY", LATER)

    await writes.write_case(database, write=CaseWrite(snapshot=snapshot(), payments=(payment,)))
    await writes.write_case(database, write=CaseWrite(snapshot=other, payments=(payment,)))

    assert sorted(p.account_no for p in await rows(database, PaymentRecordRow)) == [
        "6222000011112222",
        "6222000099990000",
    ]


async def test_a_promise_is_one_row_that_is_resolved_once(database: Database) -> None:
    await writes.write_case(database, write=CaseWrite(snapshot=snapshot(), promises=(promise(),)))

    await writes.write_case(
        database,
        write=CaseWrite(snapshot=snapshot(LATER), promises=(promise("kept", resolved_at=LATER),)),
    )
    await writes.write_case(database, write=CaseWrite(snapshot=snapshot(), promises=(promise(),)))

    [row] = await rows(database, PromiseRecordRow)
    assert (row.status, row.resolved_at, row.case_id) == ("kept", LATER, CASE_ID)


async def test_a_refused_attempt_is_recorded_once_with_its_reason(database: Database) -> None:
    await writes.record_refused_attempt(database, attempt=refusal())
    await writes.record_refused_attempt(database, attempt=refusal())

    [attempt] = await list_attempts(database, case_id=CASE_ID)
    assert (attempt.status, attempt.reason, attempt.channel) == (
        "refused",
        "outside_window",
        "sms",
    )
    assert attempt.retry_at == OPENED_AT + timedelta(hours=10)
    assert attempt.provider_id is None


async def test_attempts_are_listed_oldest_first_for_their_case_only(database: Database) -> None:
    await writes.record_refused_attempt(database, attempt=refusal(f"{CASE_ID}/r2", LATER))
    await writes.record_refused_attempt(database, attempt=refusal(f"{CASE_ID}/r1", OPENED_AT))

    attempts = await list_attempts(database, case_id=CASE_ID)

    assert [a.idempotency_key for a in attempts] == [f"{CASE_ID}/r1", f"{CASE_ID}/r2"]
    assert await list_attempts(database, case_id="case-unknown") == []


async def test_times_from_another_zone_come_back_as_the_same_instant_in_utc(
    database: Database,
) -> None:
    shanghai = OPENED_AT.astimezone(timezone(timedelta(hours=8)))

    await writes.write_case(
        database, write=CaseWrite(snapshot=snapshot(shanghai), audit=(audit(1, at=shanghai),))
    )

    case = await get_case(database, account_no=ACCOUNT.account_no)
    assert case is not None
    assert case.updated_at == OPENED_AT
    assert case.updated_at.tzinfo is not None
    assert case.updated_at.utcoffset() == timedelta(0)
    [entry] = await rows(database, AuditLogRow)
    assert entry.at.utcoffset() == timedelta(0)


async def test_an_unknown_account_has_no_case(database: Database) -> None:
    assert await get_case(database, account_no="0000") is None


async def test_the_audit_log_keeps_each_cases_entries_in_order(database: Database) -> None:
    await writes.write_case(
        database, write=CaseWrite(snapshot=snapshot(), audit=(audit(2), audit(1)))
    )
    await writes.write_case(
        database, write=CaseWrite(snapshot=snapshot(LATER), audit=(audit(3, at=LATER),))
    )

    async with database.session() as session:
        result = await session.exec(
            select(AuditLogRow).where(AuditLogRow.case_id == CASE_ID).order_by(col(AuditLogRow.seq))
        )
        assert [e.seq for e in result] == [1, 2, 3]


async def test_two_handles_on_one_database_write_at_once(database_url: str) -> None:
    """The worker and the API each open the database; their writes must not fail or collide."""
    handles = [Database(database_url), Database(database_url)]
    case_writes = [
        CaseWrite(
            snapshot=snapshot(OPENED_AT + timedelta(minutes=seq)),
            audit=(audit(seq),),
            opened=OPENED,
        )
        for seq in range(1, 41)
    ]
    try:
        await asyncio.gather(
            *(
                writes.write_case(handles[seq % 2], write=write)
                for seq, write in enumerate(case_writes)
            )
        )
        [case] = await rows(handles[0], CaseRow)
        assert case.updated_at == OPENED_AT + timedelta(minutes=40)
        assert len(await rows(handles[1], AuditLogRow)) == 40
    finally:
        for db in handles:
            await db.dispose()


async def test_a_task_is_one_row_that_moves_on_and_stays_closed(database: Database) -> None:
    task = TaskRecord(
        key=f"{CASE_ID}/t1",
        case_id=CASE_ID,
        kind=TaskKind.COLLECTOR_CALL,
        queue="operations",
        deadline=LATER,
        created_at=OPENED_AT,
    )
    claimed = replace(task, status=TaskStatus.CLAIMED, assignee="collector-7")
    done = replace(claimed, status=TaskStatus.DONE, outcome=TaskOutcome.REACHED, closed_at=LATER)

    for write in (task, claimed, done, claimed):  # the last one is a late retry
        await writes.write_case(database, write=CaseWrite(snapshot=snapshot(), tasks=(write,)))

    [row] = await rows(database, HumanTaskRow)
    assert (row.status, row.assignee, row.outcome) == ("done", "collector-7", "reached")
    assert row.closed_at == LATER and row.deadline == LATER


async def test_a_handoff_keeps_its_dossier_while_its_status_moves_on(database: Database) -> None:
    first = HandoffWrite(
        key="legal-6222000011112222-1",
        case_id=CASE_ID,
        department="legal",
        status="referred",
        reason="approved by supervisor-2",
        at=OPENED_AT,
        dossier={"payments": []},
    )
    await writes.write_handoff(database, write=first)
    await writes.write_handoff(
        database,
        write=replace(first, status="accepted", reason="by counsel-1", at=LATER, dossier=None),
    )

    [row] = await rows(database, HandoffRow)
    assert (row.status, row.reason, row.dossier) == ("accepted", "by counsel-1", {"payments": []})
    assert (row.created_at, row.updated_at) == (OPENED_AT, LATER)
