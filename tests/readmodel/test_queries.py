"""The read model's queries: what the front ends list and look up, seeded through the writes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import inspect

from models.case_writes import (
    CaseWrite,
    PaymentRow,
)
from models.contracts import (
    ClosureReason,
    Stage,
)
from models.departments import HandoffWrite
from models.tasks import TaskKind, TaskRecord, TaskStatus
from readmodel import queries, writes
from readmodel.engine import Database
from tests.readmodel.test_writes import (
    ACCOUNT,
    CASE_ID,
    OPENED,
    OPENED_AT,
    audit,
    snapshot,
)

OTHER = "6222000099990000"
OTHER_CASE = f"case-{OTHER}"


async def seed_two_cases(db: Database) -> None:
    await writes.write_case(
        db,
        write=CaseWrite(snapshot=snapshot(), audit=(audit(2), audit(1)), opened=OPENED),
    )
    other = replace(
        snapshot(OPENED_AT + timedelta(hours=1)),
        case_id=OTHER_CASE,
        account_no=OTHER,
        stage=Stage.COLLECTOR,
        days_past_due=70,
        outstanding_minor=900_00,
        currency="USD",
    )
    await writes.write_case(db, write=CaseWrite(snapshot=other))


async def test_cases_are_searched_newest_first_by_each_filter(database: Database) -> None:
    await seed_two_cases(database)

    async def ids(**filters: object) -> list[str]:
        filters.setdefault("now", OPENED_AT + timedelta(hours=2))
        rows = await queries.search_cases(database, **filters)  # type: ignore[arg-type]
        return [r.case_id for r in rows]

    assert await ids() == [OTHER_CASE, CASE_ID]
    assert await ids(limit=1) == [OTHER_CASE]
    assert await ids(account_prefix=ACCOUNT.account_no[:10]) == [CASE_ID]
    assert await ids(account_prefix="", stage="", segment="") == [OTHER_CASE, CASE_ID]
    assert await ids(stage=Stage.COLLECTOR.value) == [OTHER_CASE]
    assert await ids(min_dpd=36) == [OTHER_CASE]
    assert await ids(max_dpd=35) == [CASE_ID]
    # Days past due run on from each case's origin, written or not: ten days on, 45 and 80.
    later = OPENED_AT + timedelta(days=10, hours=2)
    assert await ids(min_dpd=45, max_dpd=45, now=later) == [CASE_ID]
    assert await ids(min_dpd=80, now=later) == [OTHER_CASE]
    assert await ids(max_dpd=44, now=later) == []
    rows = await queries.search_cases(database, now=later)
    assert [r.days_past_due for r in rows] == [80, 45]
    found = await queries.get_case(database, account_no=ACCOUNT.account_no, now=later)
    assert found is not None and found.days_past_due == 45
    assert await ids(min_outstanding_minor=0, below_outstanding_minor=1_000_00) == [OTHER_CASE]
    assert await ids(min_outstanding_minor=1_000_00) == [CASE_ID]


async def test_a_case_its_audit_log_payments_and_customer(database: Database) -> None:
    await seed_two_cases(database)
    payment = PaymentRow(payment_ref="B-1", amount_minor=100, currency="CNY", received_at=OPENED_AT)
    await writes.write_case(database, write=CaseWrite(snapshot=snapshot(), payments=(payment,)))

    case = await queries.get_case(database, account_no=ACCOUNT.account_no)
    assert case is not None and case.case_id == CASE_ID
    assert [e.seq for e in await queries.list_audit(database, case_id=CASE_ID)] == [1, 2]
    assert [p.payment_ref for p in await queries.list_payments(database, case_id=CASE_ID)] == [
        "B-1"
    ]
    found = await queries.get_case_customer(database, case_id=CASE_ID)
    assert found is not None
    row, customer = found
    assert row.case_id == CASE_ID and customer is not None
    assert customer.mobile == OPENED.contact.mobile
    assert await queries.get_case_customer(database, case_id="case-none") is None


async def test_the_open_cases_of_a_mobile_number(database: Database) -> None:
    await seed_two_cases(database)
    mobile = OPENED.contact.mobile

    # The customer has two accounts, so two cases.
    assert await queries.open_cases_for_mobile(database, mobile=mobile) == [CASE_ID, OTHER_CASE]
    assert await queries.open_cases_for_mobile(database, mobile="") == []
    assert await queries.open_cases_for_mobile(database, mobile="+10000000000") == []

    closed = snapshot(OPENED_AT + timedelta(days=1), closed_reason=ClosureReason.PAID)
    await writes.write_case(database, write=CaseWrite(snapshot=closed))
    assert await queries.open_cases_for_mobile(database, mobile=mobile) == [OTHER_CASE]


def task(n: int, *, queue: str = "operations", **changes: object) -> TaskRecord:
    record = TaskRecord(
        key=f"{CASE_ID}/t{n}",
        case_id=CASE_ID,
        kind=TaskKind.COLLECTOR_CALL,
        queue=queue,
        deadline=OPENED_AT + timedelta(days=10 - n),
        created_at=OPENED_AT,
    )
    return replace(record, **changes)  # type: ignore[arg-type]


async def test_tasks_are_listed_soonest_deadline_first_by_each_filter(database: Database) -> None:
    tasks = (
        task(1),
        task(2, queue="supervisor"),
        task(3, status=TaskStatus.CLAIMED, assignee="chen.jie"),
    )
    await writes.write_case(database, write=CaseWrite(snapshot=snapshot(), tasks=tasks))

    async def keys(**filters: object) -> list[str]:
        rows = await queries.list_tasks(database, **filters)  # type: ignore[arg-type]
        return [r.idempotency_key.rsplit("/", 1)[1] for r in rows]

    assert await keys() == ["t3", "t2", "t1"]
    assert await keys(limit=2) == ["t3", "t2"]
    assert await keys(queue="operations") == ["t3", "t1"]
    assert await keys(queue=["operations", "supervisor"], status="open") == ["t2", "t1"]
    assert await keys(status=["open", "claimed"], assignee="chen.jie") == ["t3"]
    assert await keys(case_id="case-other") == []
    row = await queries.get_task(database, task_key=f"{CASE_ID}/t2")
    assert row is not None and row.queue == "supervisor"
    assert await queries.get_task(database, task_key="nope") is None


async def test_handoffs_by_department_status_and_case(database: Database) -> None:
    for n, (department, status) in enumerate(
        [("legal", "referred"), ("risk", "open"), ("legal", "accepted")]
    ):
        await writes.write_handoff(
            database,
            write=HandoffWrite(
                f"{department}-{n}",
                CASE_ID if n < 2 else OTHER_CASE,
                department,
                status,
                "why",
                OPENED_AT + timedelta(hours=n),
                dossier={"n": n},
            ),
        )

    async def keys(**filters: object) -> list[str]:
        rows = await queries.list_handoffs(database, **filters)  # type: ignore[arg-type]
        return [r.idempotency_key for r in rows]

    assert await keys(department="legal") == ["legal-0", "legal-2"]
    assert await keys(department=["legal", "risk"], newest_first=True) == [
        "legal-2",
        "risk-1",
        "legal-0",
    ]
    assert await keys(department=["legal", "risk"], newest_first=True, limit=1) == ["legal-2"]
    assert await keys(department="legal", status="accepted") == ["legal-2"]
    assert await keys(department=["legal", "risk"], case_id=CASE_ID) == ["legal-0", "risk-1"]

    [lean] = await queries.list_handoffs(database, department="risk", with_dossier=False)
    assert "dossier" in inspect(lean).unloaded
    row = await queries.get_handoff(database, key="risk-1")
    assert row is not None and row.dossier == {"n": 1}
    assert await queries.get_dossier(database, handoff_key="legal-2") == {"n": 2}
    assert await queries.get_dossier(database, handoff_key="nope") is None


async def test_the_currency_of_the_case_holding_a_task_or_handoff(database: Database) -> None:
    await seed_two_cases(database)
    await writes.write_case(database, write=CaseWrite(snapshot=snapshot(), tasks=(task(1),)))
    await writes.write_handoff(
        database,
        write=HandoffWrite("risk-9", OTHER_CASE, "risk", "open", "why", OPENED_AT),
    )

    assert await queries.case_currency(database, task_key=f"{CASE_ID}/t1") == "CNY"
    assert await queries.case_currency(database, handoff_key="risk-9") == "USD"
    assert await queries.case_currency(database, task_key="nope") is None
