"""The center's KPIs from the read model: cases written through the case store as the
workflow writes them, promises, tasks and refused contacts as their activities store them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from models.case_writes import (
    CaseSnapshot,
    CaseWrite,
)
from models.contracts import (
    AttemptStatus,
    ClosureReason,
    Stage,
)
from models.departments import TaskOutcome, TaskStatus
from models.strategy import Segment
from readmodel import writes
from readmodel.engine import Database
from readmodel.kpis import Bucket, Rate, bucket_of, worse
from readmodel.queries import center_kpis
from readmodel.tables import BucketMoveRow, ContactAttemptRow, HumanTaskRow, PromiseRecordRow

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=90)  # before the 30-day window


def snapshot(n: int, dpd: int, at: datetime, **changes: object) -> CaseSnapshot:
    base = CaseSnapshot(
        case_id=f"case-{n}",
        account_no=str(n),
        customer_ref=f"C-{n}",
        stage=Stage.EARLY,
        segment=Segment.MEDIUM,
        score=50,
        strategy_version="default@1",
        days_past_due=dpd,
        currency="CNY",
        outstanding_minor=100_000,
        overdue_minor=50_000,
        closed_reason=None,
        updated_at=at,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("dpd", "bucket"),
    [(0, "current"), (1, "M1"), (30, "M1"), (31, "M2"), (60, "M2"), (61, "M3"), (91, "M4+")],
)
def test_buckets_follow_the_dpd_bands(dpd: int, bucket: str) -> None:
    assert bucket_of(dpd) == bucket
    assert bucket_of(dpd, closed=True) is Bucket.CLOSED


def test_only_a_later_delinquent_bucket_is_worse() -> None:
    assert worse("M2", "M1") and worse("M4+", "M3")
    assert not worse("M1", "M2") and not worse("closed", "M1") and not worse("M1", "M1")


async def test_the_store_records_a_move_only_when_the_bucket_changes(database: Database) -> None:
    day = timedelta(days=1)
    for i, dpd in enumerate([29, 30, 31, 32]):  # M1, M1, M2, M2
        await writes.write_case(
            database, write=CaseWrite(snapshot=snapshot(1, dpd, LONG_AGO + i * day))
        )
    # A retry of an older write (a lost race) moves nothing back.
    await writes.write_case(database, write=CaseWrite(snapshot=snapshot(1, 29, LONG_AGO)))
    closed = snapshot(1, 32, LONG_AGO + 5 * day, closed_reason=ClosureReason.PAID)
    await writes.write_case(database, write=CaseWrite(snapshot=closed))
    await writes.write_case(database, write=CaseWrite(snapshot=closed))  # retried: one row still
    async with database.session() as session:
        moves = (await session.exec(select(BucketMoveRow).order_by(BucketMoveRow.at))).all()
    assert [(m.from_bucket, m.to_bucket) for m in moves] == [
        (None, "M1"),
        ("M1", "M2"),
        ("M2", "closed"),
    ]


async def test_the_center_kpis_count_what_happened_in_the_window(database: Database) -> None:
    async def case(n: int, *steps: tuple[int, datetime, ClosureReason | None]) -> None:
        for dpd, at, closed in steps:
            stage = Stage.CLOSED if closed else Stage.COLLECTOR if dpd > 30 else Stage.EARLY
            await writes.write_case(
                database,
                write=CaseWrite(snapshot=snapshot(n, dpd, at, closed_reason=closed, stage=stage)),
            )

    # In M1 before the window: one rolls to M2 within it, one is cured, one stays.
    await case(1, (20, LONG_AGO, None), (31, NOW - timedelta(days=5), None))
    await case(2, (20, LONG_AGO, None), (20, NOW - timedelta(days=3), ClosureReason.PAID))
    await case(3, (25, LONG_AGO, None))
    # Enters M2 within the window and rolls on to M3; closed long ago (outside the window).
    await case(4, (45, NOW - timedelta(days=20), None), (61, NOW - timedelta(days=2), None))
    await case(5, (10, LONG_AGO, None), (10, LONG_AGO + timedelta(days=1), ClosureReason.CURED))

    async with database.session() as session:
        for n, status, resolved in [
            (1, "kept", NOW - timedelta(days=1)),
            (2, "broken", NOW - timedelta(days=2)),
            (3, "kept", NOW - timedelta(days=3)),
            (4, "kept", LONG_AGO),  # outside the window
            (5, "open", None),
        ]:
            session.add(
                PromiseRecordRow(
                    idempotency_key=f"case-{n}/p1",
                    case_id=f"case-{n}",
                    amount_minor=1_000,
                    currency="CNY",
                    promised_date=date(2026, 6, 1),
                    made_at=LONG_AGO,
                    status=status,
                    resolved_at=resolved,
                )
            )
        outcomes = [
            TaskOutcome.REACHED,
            TaskOutcome.PROMISE_MADE,
            TaskOutcome.WRONG_NUMBER,
            TaskOutcome.NOT_FOUND,
            TaskOutcome.APPROVED,  # a supervisor's approval: not a contact
        ]
        for n, outcome in enumerate(outcomes):
            session.add(
                HumanTaskRow(
                    idempotency_key=f"case-1/t{n}",
                    case_id="case-1",
                    kind="collector_call",
                    queue="operations",
                    status=TaskStatus.DONE.value,
                    outcome=outcome.value,
                    deadline=NOW,
                    created_at=NOW - timedelta(days=2),
                    closed_at=NOW - timedelta(days=1),
                )
            )
        for n, reason, at in [
            (1, "outside_window", NOW - timedelta(days=1)),
            (2, "outside_window", NOW - timedelta(days=2)),
            (3, "daily_cap", NOW - timedelta(days=3)),
            (4, "daily_cap", LONG_AGO),  # outside the window
        ]:
            session.add(
                ContactAttemptRow(
                    idempotency_key=f"a{n}",
                    case_id="case-1",
                    account_no="1",
                    channel="sms",
                    template="reminder",
                    status=AttemptStatus.REFUSED.value,
                    reason=reason,
                    created_at=at,
                    updated_at=at,
                )
            )
        await session.commit()

    kpis = await center_kpis(database, now=NOW)

    assert kpis.by_stage["closed"] == 2 and kpis.by_stage["early"] == 1
    assert kpis.by_stage["collector"] == 2 and sum(kpis.by_stage.values()) == 5
    assert kpis.by_bucket == {"current": 0, "M1": 1, "M2": 1, "M3": 1, "M4+": 0}
    rolls = {r.bucket: r.rolled for r in kpis.roll_rates}
    assert rolls["M1"] == Rate(1, 3)  # case 1 of cases 1, 2, 3
    assert rolls["M2"] == Rate(1, 2)  # case 4 of cases 1 and 4
    assert rolls["M3"] == Rate(0, 1) and "M4+" not in rolls  # nothing is worse than M4+
    assert Rate(0, 0).value is None
    assert kpis.cure == Rate(1, 4)  # case 2, of the four open during the window
    assert kpis.promise_kept == Rate(2, 3)
    assert kpis.right_party_contact == Rate(2, 4)
    assert kpis.refusals == {"outside_window": 2, "daily_cap": 1}
