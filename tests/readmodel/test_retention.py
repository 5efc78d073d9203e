"""Erasing a closed case's personal data: names, phone numbers and free text go; the case, its
amounts and the center's KPIs stay exactly as they were. Seeded through the case store's writes,
as the workflows write them, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlmodel import SQLModel, col, select

from models.case_writes import (
    AuditEntry,
    CaseSnapshot,
    CaseWrite,
    PaymentRow,
    PromiseRow,
)
from models.complaints import ComplaintCategory, ComplaintChannel, ComplaintRow
from models.contact_details import ContactChange
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
from models.retention import ErasureCounts
from models.strategy import Channel, Segment
from models.tasks import TaskKind, TaskOutcome, TaskRecord, TaskStatus
from readmodel import writes
from readmodel.complaints import ComplaintRegisterRow
from readmodel.engine import Database
from readmodel.queries import center_kpis
from readmodel.retention import (
    ERASED,
    ERASED_KIND,
    due_for_erasure,
    erase_case_personal_data,
    is_erased,
)
from readmodel.tables import (
    AccountRow,
    ApprovalRow,
    AuditLogRow,
    BucketMoveRow,
    CaseRow,
    ContactAttemptRow,
    CustomerRow,
    HandoffRow,
    HumanTaskRow,
    PaymentRecordRow,
    PromiseRecordRow,
)

T = TypeVar("T", bound=SQLModel)

NOW = datetime(2032, 6, 1, 2, 0, tzinfo=UTC)
CUTOFF = NOW.replace(year=NOW.year - 5)
OLD = CUTOFF - timedelta(days=400)  # opened well before the cut-off
NAME, MOBILE = "张伟", "+8613800138000"
HARDSHIP = f"lost job; call {NAME} on {MOBILE}"


@dataclass(frozen=True)
class Seeded:
    case_id: str
    account_no: str
    customer_ref: str


async def seed_case(
    db: Database,
    n: int,
    *,
    customer_ref: str,
    opened_at: datetime,
    closed_at: datetime | None,
    name: str = NAME,
    mobile: str = MOBILE,
    stage: Stage = Stage.COLLECTOR,
) -> Seeded:
    """A case with everything a case writes: customer and account, audit entries quoting the
    customer, a payment, a kept promise, a done call, a refused text, a risk handoff with its
    dossier, an approval request; closed (written off) at `closed_at` unless None."""
    account_no = f"62220000{n:08d}"
    case_id = f"case-{account_no}"
    opened = CaseInput(
        customer_ref=customer_ref,
        customer_name=name,
        contact=ContactPoints(mobile=mobile),
        account=Account(
            account_no=account_no,
            product="card",
            currency="CNY",
            outstanding_minor=500_000,
            overdue_minor=120_000,
            oldest_due_date=date(opened_at.year, 1, 1),
        ),
    )
    snapshot = CaseSnapshot(
        case_id=case_id,
        account_no=account_no,
        customer_ref=customer_ref,
        stage=stage,
        segment=Segment.MEDIUM,
        score=42,
        strategy_version="default@1",
        days_past_due=35,
        currency="CNY",
        outstanding_minor=500_000,
        overdue_minor=120_000,
        closed_reason=None,
        updated_at=opened_at,
    )
    day = timedelta(days=1)
    base = int(opened_at.timestamp()) * 1000

    def entry(seq: int, kind: str, detail: str, at: datetime) -> AuditEntry:
        return AuditEntry(case_id, base + seq, at, kind, detail, actor="ops.ann")

    await writes.write_case(
        db,
        write=CaseWrite(
            snapshot=snapshot,
            opened=opened,
            audit=(
                entry(1, "opened", f"case opened for {name}", opened_at),
                dataclasses.replace(
                    entry(2, "hardship", HARDSHIP, opened_at + day), data={"reason": HARDSHIP}
                ),
                entry(3, "payment", "20000 CNY received", opened_at + 2 * day),
            ),
            payments=(PaymentRow("PAY-1", 20_000, "CNY", opened_at + 2 * day),),
            promises=(
                PromiseRow(
                    key=f"{case_id}/p1",
                    amount_minor=50_000,
                    currency="CNY",
                    promised_date=(opened_at + 5 * day).date(),
                    made_at=opened_at + day,
                    status="kept",
                    resolved_at=opened_at + 5 * day,
                ),
            ),
            tasks=(
                TaskRecord(
                    key=f"{case_id}/t1",
                    case_id=case_id,
                    kind=TaskKind.COLLECTOR_CALL,
                    queue="operations",
                    deadline=opened_at + 3 * day,
                    created_at=opened_at,
                    status=TaskStatus.DONE,
                    outcome=TaskOutcome.REACHED,
                    closed_at=opened_at + day,
                ),
            ),
            complaints=(
                ComplaintRow(
                    key=f"{case_id}/cp1",
                    case_id=case_id,
                    category=ComplaintCategory.CONDUCT,
                    channel=ComplaintChannel.PHONE,
                    asks=f"{name} asks for an apology",
                    received_at=opened_at + day,
                    deadline=opened_at + 16 * day,
                    pauses_collection=True,
                ),
            ),
            contact=ContactChange(customer_ref, address=f"{name}'s home, 1 Century Avenue"),
        ),
    )
    await writes.record_refused_attempt(
        db,
        attempt=RefusedAttempt(
            idempotency_key=f"{case_id}/r1",
            case_id=case_id,
            account_no=account_no,
            channel=Channel.SMS,
            template="reminder_1",
            reason=RefusalReason.OUTSIDE_WINDOW,
            at=opened_at + day,
        ),
    )
    await writes.write_handoff(
        db,
        write=HandoffWrite(
            key=f"risk-{account_no}-1",
            case_id=case_id,
            department="risk",
            status="decided",
            reason=HARDSHIP,
            at=opened_at + day,
            dossier={"summary": {"customer_name": name, "mobile": mobile}},
        ),
    )
    async with db.session() as session:
        session.add(
            ApprovalRow(
                case_id=case_id,
                action="close",
                input={"reason": "written_off", "note": f"{name} moved abroad"},
                needs="writing off a case",
                status="approved",
                requested_by="sup.sam",
                requested_via="cli",
                requested_roles="supervisor",
                requested_at=opened_at + day,
            )
        )
    if closed_at is not None:
        closed = CaseSnapshot(
            **{
                **snapshot.__dict__,
                "stage": Stage.CLOSED,
                "closed_reason": ClosureReason.WRITTEN_OFF,
                "updated_at": closed_at,
            }
        )
        await writes.write_case(
            db,
            write=CaseWrite(
                snapshot=closed,
                audit=(entry(4, "stage", f"closed: {name} moved abroad", closed_at),),
            ),
        )
    return Seeded(case_id, account_no, customer_ref)


async def rows(db: Database, table: type[T], **where: Any) -> list[T]:
    query = select(table).order_by(col(table.id))  # type: ignore[attr-defined]
    for name, value in where.items():
        query = query.where(getattr(table, name) == value)
    async with db.session() as session:
        return list(await session.exec(query))


async def customer(db: Database, ref: str) -> CustomerRow:
    [row] = await rows(db, CustomerRow, customer_ref=ref)
    return row


def dumped(found: list[Any]) -> list[dict[str, Any]]:
    return [row.model_dump() for row in found]


async def kept_tables(db: Database) -> dict[str, list[dict[str, Any]]]:
    """What erasure must not touch: every row of these tables, as it is."""
    tables: list[type[SQLModel]] = [
        CaseRow,
        AccountRow,
        PaymentRecordRow,
        PromiseRecordRow,
        HumanTaskRow,
        ContactAttemptRow,
        BucketMoveRow,
    ]
    return {t.__name__: dumped(await rows(db, t)) for t in tables}


async def test_erasing_a_closed_case_takes_its_personal_data_and_keeps_amounts_and_kpis(
    database: Database,
) -> None:
    old = await seed_case(
        database, 1, customer_ref="C-1", opened_at=OLD, closed_at=OLD + timedelta(days=30)
    )
    kept_before = await kept_tables(database)
    audit_before = await rows(database, AuditLogRow, case_id=old.case_id)
    kpis_before = await center_kpis(database, now=OLD + timedelta(days=31))
    kpis_now_before = await center_kpis(database, now=NOW)

    erased = await erase_case_personal_data(
        database, old.case_id, now=NOW, keep_closed_since=CUTOFF
    )

    assert erased == ErasureCounts(cases=1, customers=1, audit_entries=4, handoffs=1, approvals=1)
    gone = await customer(database, "C-1")
    assert (gone.name, gone.mobile, gone.address) == (None, "", None)
    assert getattr(gone, "mobile_index", None) is None
    audit = await rows(database, AuditLogRow, case_id=old.case_id)
    *entries, marker = audit
    # What happened, when and by whom stays; what was said about the customer goes.
    assert [(e.seq, e.kind, e.at, e.actor) for e in entries] == [
        (e.seq, e.kind, e.at, e.actor) for e in audit_before
    ]
    assert {e.detail for e in entries} == {ERASED}
    assert all(e.data == {} for e in entries)  # the hardship's fields went with its text
    [complaint] = await rows(database, ComplaintRegisterRow, case_id=old.case_id)
    assert (complaint.asks, complaint.response, complaint.category) == (ERASED, ERASED, "conduct")
    assert (marker.kind, marker.actor, marker.at) == (ERASED_KIND, "retention", NOW)
    assert marker.seq > entries[-1].seq
    [handoff] = await rows(database, HandoffRow, case_id=old.case_id)
    assert (handoff.reason, handoff.dossier, handoff.status) == (ERASED, None, "decided")
    [approval] = await rows(database, ApprovalRow, case_id=old.case_id)
    assert (approval.input, approval.action, approval.status) == ({}, "close", "approved")
    assert await kept_tables(database) == kept_before
    assert await center_kpis(database, now=OLD + timedelta(days=31)) == kpis_before
    assert await center_kpis(database, now=NOW) == kpis_now_before
    assert await is_erased(database, old.case_id)


async def test_erasing_again_changes_nothing(database: Database) -> None:
    old = await seed_case(
        database, 1, customer_ref="C-1", opened_at=OLD, closed_at=OLD + timedelta(days=30)
    )
    await erase_case_personal_data(database, old.case_id, now=NOW)
    audit = dumped(await rows(database, AuditLogRow))
    everything = await kept_tables(database)

    again = await erase_case_personal_data(database, old.case_id, now=NOW + timedelta(days=1))

    assert again == ErasureCounts()
    assert dumped(await rows(database, AuditLogRow)) == audit
    assert await kept_tables(database) == everything


async def test_an_open_case_is_never_erased(database: Database) -> None:
    live = await seed_case(database, 1, customer_ref="C-1", opened_at=OLD, closed_at=None)

    assert await erase_case_personal_data(database, live.case_id, now=NOW) == ErasureCounts()
    assert (await customer(database, "C-1")).mobile == MOBILE
    [handoff] = await rows(database, HandoffRow)
    assert handoff.reason == HARDSHIP and handoff.dossier is not None
    assert not await is_erased(database, live.case_id)


async def test_a_customer_with_another_open_or_recent_case_keeps_name_and_phone(
    database: Database,
) -> None:
    old = await seed_case(
        database, 1, customer_ref="C-1", opened_at=OLD, closed_at=OLD + timedelta(days=30)
    )
    later = await seed_case(
        database, 2, customer_ref="C-1", opened_at=NOW - timedelta(days=60), closed_at=None
    )

    erased = await erase_case_personal_data(
        database, old.case_id, now=NOW, keep_closed_since=CUTOFF
    )

    assert (erased.cases, erased.customers) == (1, 0)
    kept = await customer(database, "C-1")
    assert (kept.name, kept.mobile) == (NAME, MOBILE)
    # The other case's own free text is untouched.
    assert {e.detail for e in await rows(database, AuditLogRow, case_id=later.case_id)} >= {
        HARDSHIP
    }

    # Closed within the period, it still keeps them; once it is erased too, they go.
    closing = CaseSnapshot(
        case_id=later.case_id,
        account_no=later.account_no,
        customer_ref="C-1",
        stage=Stage.CLOSED,
        segment=Segment.MEDIUM,
        score=42,
        strategy_version="default@1",
        days_past_due=35,
        currency="CNY",
        outstanding_minor=0,
        overdue_minor=0,
        closed_reason=ClosureReason.SETTLED,
        updated_at=NOW - timedelta(days=1),
    )
    await writes.write_case(database, write=CaseWrite(snapshot=closing))
    await writes.write_case(  # the old case written again after its erasure: due once more
        database,
        write=CaseWrite(
            snapshot=(await _snapshot_of(database, old.case_id, NOW + timedelta(hours=1)))
        ),
    )
    again = await erase_case_personal_data(
        database, old.case_id, now=NOW + timedelta(hours=2), keep_closed_since=CUTOFF
    )
    assert (again.cases, again.customers) == (1, 0)
    assert (await customer(database, "C-1")).mobile == MOBILE

    last = await erase_case_personal_data(database, later.case_id, now=NOW + timedelta(hours=3))
    assert (last.cases, last.customers) == (1, 1)
    assert (await customer(database, "C-1")).mobile == ""


async def _snapshot_of(db: Database, case_id: str, at: datetime) -> CaseSnapshot:
    [row] = await rows(db, CaseRow, case_id=case_id)
    return CaseSnapshot(
        case_id=row.case_id,
        account_no=row.account_no,
        customer_ref=row.customer_ref,
        stage=Stage(row.stage),
        segment=Segment(row.segment),
        score=row.score,
        strategy_version=row.strategy_version,
        days_past_due=row.days_past_due,
        currency=row.currency,
        outstanding_minor=row.outstanding_minor,
        overdue_minor=row.overdue_minor,
        closed_reason=ClosureReason(row.closed_reason) if row.closed_reason else None,
        updated_at=at,
    )


async def test_due_are_the_cases_closed_before_the_cut_off_not_yet_erased(
    database: Database,
) -> None:
    first = await seed_case(
        database, 1, customer_ref="C-1", opened_at=OLD, closed_at=OLD + timedelta(days=10)
    )
    second = await seed_case(
        database, 2, customer_ref="C-2", opened_at=OLD, closed_at=OLD + timedelta(days=20)
    )
    await seed_case(database, 3, customer_ref="C-3", opened_at=OLD, closed_at=None)  # open
    recent = CUTOFF + timedelta(days=1)
    await seed_case(database, 4, customer_ref="C-4", opened_at=OLD, closed_at=recent)

    assert await due_for_erasure(database, before=CUTOFF, limit=10) == [
        first.case_id,
        second.case_id,
    ]
    assert await due_for_erasure(database, before=CUTOFF, limit=1) == [first.case_id]

    await erase_case_personal_data(database, first.case_id, now=NOW)

    assert await due_for_erasure(database, before=CUTOFF, limit=10) == [second.case_id]
