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
from models.strategy import Segment
from models.tasks import TaskOutcome, TaskStatus
from readmodel import queries, writes
from readmodel.engine import Database
from readmodel.kpis import Bucket, Rate, bucket_of, worse
from readmodel.queries import center_kpis
from readmodel.tables import (
    BucketMoveRow,
    CaseRow,
    ContactAttemptRow,
    HumanTaskRow,
    PromiseRecordRow,
)

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


async def test_the_store_records_a_move_only_when_a_write_moves_the_case(
    database: Database,
) -> None:
    """Aging alone is no write's move (the KPIs count it from the origin): the opening and
    the closure are."""
    day = timedelta(days=1)
    origin = LONG_AGO - 29 * day
    for i, dpd in enumerate([29, 30, 31, 32]):  # M1, M1, M2, M2: the case aging
        at = LONG_AGO + i * day
        await writes.write_case(
            database, write=CaseWrite(snapshot=snapshot(1, dpd, at, due_origin=origin))
        )
    # A retry of an older write (a lost race) moves nothing back.
    await writes.write_case(database, write=CaseWrite(snapshot=snapshot(1, 29, LONG_AGO)))
    closed = snapshot(1, 34, LONG_AGO + 5 * day, closed_reason=ClosureReason.PAID)
    await writes.write_case(database, write=CaseWrite(snapshot=closed))
    await writes.write_case(database, write=CaseWrite(snapshot=closed))  # retried: one row still
    async with database.session() as session:
        moves = (await session.exec(select(BucketMoveRow).order_by(BucketMoveRow.at))).all()
    assert [(m.from_bucket, m.to_bucket) for m in moves] == [(None, "M1"), ("M2", "closed")]


async def test_the_center_kpis_count_what_happened_in_the_window(database: Database) -> None:
    """Each case is written as the workflow writes it: when it opens and when it closes, never
    as it ages; days past due and buckets are counted at `now` from each case's origin."""
    day = timedelta(days=1)

    async def case(
        n: int, opened: datetime, dpd: int, closed: tuple[datetime, ClosureReason] | None = None
    ) -> None:
        origin = opened - dpd * day
        stage = Stage.COLLECTOR if dpd > 30 else Stage.EARLY
        first = snapshot(n, dpd, opened, stage=stage, due_origin=origin)
        await writes.write_case(database, write=CaseWrite(snapshot=first))
        if closed is not None:
            at, reason = closed
            shut = replace(
                first,
                stage=Stage.CLOSED,
                closed_reason=reason,
                days_past_due=(at - origin) // day,
                updated_at=at,
            )
            await writes.write_case(database, write=CaseWrite(snapshot=shut))

    # In M1 at the window's start (15 days), rolls to M2 14 days before now.
    await case(1, NOW - 40 * day, 5)
    # In M1 at the start (2 days), paid three days ago, still in M1.
    await case(2, NOW - 31 * day, 1, (NOW - 3 * day, ClosureReason.PAID))
    # In M2 at the start (60 days), rolls to M3 the next day.
    await case(3, NOW - 50 * day, 40)
    # Opens in M2 within the window (45 days), rolls to M3 four days ago.
    await case(4, NOW - 20 * day, 45)
    # Cured long before the window: counted nowhere.
    await case(5, LONG_AGO, 10, (LONG_AGO + day, ClosureReason.CURED))
    # Opened an hour ago, not yet past due.
    await case(6, NOW - timedelta(hours=1), 0)
    # In M3 at the start (80 days), rolls to M4+ 19 days ago.
    await case(7, LONG_AGO, 20)
    # Opened in M1 200 days ago and never written since: in M4+ long before the window, so it
    # is no case of M1's (a write's bucket is not where an unwritten case stays).
    await case(8, NOW - 200 * day, 5)

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

    assert kpis.by_stage["closed"] == 2 and kpis.by_stage["early"] == 4
    assert kpis.by_stage["collector"] == 2 and sum(kpis.by_stage.values()) == 8
    assert kpis.by_bucket == {"current": 1, "M1": 0, "M2": 1, "M3": 2, "M4+": 2}
    rolls = {r.bucket: r.rolled for r in kpis.roll_rates}
    assert rolls["M1"] == Rate(1, 2)  # case 1 of cases 1 and 2
    assert rolls["M2"] == Rate(2, 3)  # cases 3 and 4 of cases 1, 3 and 4
    assert rolls["M3"] == Rate(1, 3) and "M4+" not in rolls  # case 7 of 3, 4 and 7
    assert Rate(0, 0).value is None
    assert kpis.cure == Rate(1, 7)  # case 2, of the seven open during the window
    assert kpis.promise_kept == Rate(2, 3)
    assert kpis.right_party_contact == Rate(2, 4)
    assert kpis.refusals == {"outside_window": 2, "daily_cap": 1}


async def test_a_row_written_before_the_origin_was_kept_counts_its_written_figure(
    database: Database,
) -> None:
    async with database.session() as session:
        session.add(
            CaseRow(
                case_id="case-legacy",
                account_no="legacy",
                customer_ref="C-legacy",
                stage=Stage.COLLECTOR.value,
                segment=Segment.MEDIUM.value,
                score=50,
                strategy_version="default@1",
                days_past_due=70,
                currency="CNY",
                outstanding_minor=1,
                overdue_minor=1,
                opened_at=LONG_AGO,
                updated_at=LONG_AGO,
            )
        )
    assert (await center_kpis(database, now=NOW)).by_bucket["M3"] == 1
    [row] = await queries.search_cases(database, min_dpd=70, max_dpd=70, now=NOW)
    assert row.days_past_due == 70 and row.due_origin is None
