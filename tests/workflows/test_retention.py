"""The retention workflow on the time-skipping server: real cases run to their close, the clock
jumps past the period, and the workflow erases the personal data of the cases closed before it,
and only theirs, while the center's KPIs read exactly as before. Its erasing activity, retried,
resumes from its last heartbeat."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

from sqlmodel import select
from temporalio.testing import ActivityEnvironment

from activities.retention import RetentionActivities
from models.contracts import CloseInput, ClosureReason, ReasonInput
from models.retention import EraseCasesInput, ErasureCounts, RetentionInput
from readmodel.engine import Database
from readmodel.queries import center_kpis
from readmodel.retention import ERASED, ERASED_KIND, erase_case_personal_data
from readmodel.tables import AuditLogRow, CaseRow, CustomerRow
from tests.readmodel.test_retention import NOW as AT
from tests.readmodel.test_retention import OLD, seed_case
from tests.workflows.harness import CaseHarness
from workflows.case import CollectionCaseWorkflow as Case
from workflows.retention import RetentionWorkflow, years_before

NAME = "张伟"  # the harness's customer name


async def customer_of(harness: CaseHarness, case_id: str) -> CustomerRow:
    async with harness.db.session() as s:
        case = (await s.exec(select(CaseRow).where(CaseRow.case_id == case_id))).one()
        return (
            await s.exec(select(CustomerRow).where(CustomerRow.customer_ref == case.customer_ref))
        ).one()


async def audit_of(harness: CaseHarness, case_id: str) -> list[AuditLogRow]:
    async with harness.db.session() as s:
        found = await s.exec(
            select(AuditLogRow).where(AuditLogRow.case_id == case_id).order_by(AuditLogRow.seq)
        )
        return list(found)


async def closed(harness: CaseHarness, case_id: str) -> datetime:
    """When the case row says closed. Polled on the wall clock: awaiting the workflow's result
    would let the server's clock run on."""
    for _ in range(100):
        async with harness.db.session() as s:
            row = (await s.exec(select(CaseRow).where(CaseRow.case_id == case_id))).one()
        if row.closed_reason is not None:
            return row.updated_at
        await asyncio.sleep(0.1)
    raise AssertionError(f"{case_id} did not close")


async def run_retention(harness: CaseHarness, years: int) -> tuple[datetime, ErasureCounts]:
    # The clock stands still meanwhile: the open case's timers must not fire between the KPIs
    # read before and after.
    with harness.env.auto_time_skipping_disabled():
        result = await harness.client.execute_workflow(
            RetentionWorkflow.run,
            RetentionInput(years=years, batch_size=2),
            id=f"retention-{uuid.uuid4().hex[:8]}",
            task_queue=harness.queue,
        )
    return result.before, result.erased


async def test_personal_data_goes_a_period_after_the_close_and_the_kpis_stay(
    departments: CaseHarness,
) -> None:
    harness = departments
    old_mobile, recent_mobile, open_mobile = "+8613900001001", "+8613900001002", "+8613900001003"
    old = await harness.start(dpd=3, mobile=old_mobile)
    await harness.sleep_days(0.2)
    dispute = f"not my debt; ring {NAME} on {old_mobile}"
    await old.execute_update(Case.raise_dispute, ReasonInput(reason=dispute))
    await old.execute_update(Case.close, CloseInput(ClosureReason.MANUAL, "moved abroad"))
    closed_at = await closed(harness, old.id)

    await harness.sleep_days(400)  # past a year
    recent = await harness.start(dpd=3, mobile=recent_mobile)
    await harness.sleep_days(0.2)
    await recent.execute_update(Case.close, CloseInput(ClosureReason.MANUAL, "moved abroad"))
    await closed(harness, recent.id)
    still_open = await harness.start(dpd=3, mobile=open_mobile)
    await harness.sleep_days(0.2)

    now = await harness.env.get_current_time()
    then = closed_at + timedelta(days=1)
    kpis_before = (
        await center_kpis(harness.db, now=now),
        await center_kpis(harness.db, now=then),
    )
    old_before = await audit_of(harness, old.id)
    assert any(dispute in e.detail for e in old_before)

    before, erased = await run_retention(harness, years=1)

    assert before < now - timedelta(days=364)
    assert (erased.cases, erased.customers) == (1, 1)
    assert erased.audit_entries == len(old_before)
    gone = await customer_of(harness, old.id)
    assert (gone.name, gone.mobile) == (None, "")
    *entries, marker = await audit_of(harness, old.id)
    assert [(e.seq, e.kind, e.actor) for e in entries] == [
        (e.seq, e.kind, e.actor) for e in old_before
    ]
    assert {e.detail for e in entries} == {ERASED}
    assert (marker.kind, marker.actor) == (ERASED_KIND, "retention")
    async with harness.db.session() as s:
        [old_case] = (await s.exec(select(CaseRow).where(CaseRow.case_id == old.id))).all()
    assert (old_case.stage, old_case.closed_reason) == ("closed", "manual")
    for handle, mobile in ((recent, recent_mobile), (still_open, open_mobile)):
        kept = await customer_of(harness, handle.id)
        assert (kept.name, kept.mobile) == (NAME, mobile)
        assert ERASED not in {e.detail for e in await audit_of(harness, handle.id)}
    kpis_after = (
        await center_kpis(harness.db, now=now),
        await center_kpis(harness.db, now=then),
    )
    assert kpis_after == kpis_before

    _, again = await run_retention(harness, years=1)
    assert again == ErasureCounts()


def test_the_cut_off_is_whole_calendar_years_back() -> None:
    assert years_before(datetime(2031, 6, 1, 2, tzinfo=UTC), 5) == datetime(
        2026, 6, 1, 2, tzinfo=UTC
    )
    assert years_before(datetime(2028, 2, 29, tzinfo=UTC), 1) == datetime(2027, 2, 28, tzinfo=UTC)


async def test_a_retried_batch_resumes_where_its_last_heartbeat_left_off(
    sqlite_db: Database,
) -> None:
    first, second = [
        await seed_case(sqlite_db, n, customer_ref=f"C-{n}", opened_at=OLD, closed_at=OLD)
        for n in (1, 2)
    ]
    done = await erase_case_personal_data(sqlite_db, first.case_id, now=AT)  # the lost attempt's
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, heartbeat_details=[1, dataclasses.asdict(done)])
    beats: list[tuple[object, ...]] = []
    env.on_heartbeat = lambda *details: beats.append(details)

    counts = await env.run(
        RetentionActivities(sqlite_db).erase_cases,
        EraseCasesInput(case_ids=(first.case_id, second.case_id), at=AT),
    )

    assert (counts.cases, counts.customers) == (2, 2)
    assert counts.audit_entries == 2 * done.audit_entries
    assert [b[0] for b in beats] == [2]
