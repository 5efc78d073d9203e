"""The collection center's KPIs counted from the read model (see `readmodel.kpis`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Subquery, and_, case, false, func, not_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.contracts import AttemptStatus, ClosureReason, Stage
from models.tasks import TaskStatus
from readmodel.aging import at_least, day_lengths
from readmodel.engine import Database
from readmodel.kpis import (
    AGING_MOVES,
    DELINQUENT,
    FLOORS,
    RIGHT_PARTY,
    WINDOW,
    WRONG_PARTY,
    Bucket,
    Kpis,
    Rate,
    RollRate,
    worse,
)
from readmodel.tables import (
    BucketMoveRow,
    CaseRow,
    ContactAttemptRow,
    HumanTaskRow,
    PromiseRecordRow,
)


async def center_kpis(db: Database, *, now: datetime, window: timedelta = WINDOW) -> Kpis:
    """The KPIs over the `window` that ends `now`; counts only, no personal data."""
    start = now - window
    async with db.session() as session:
        stages = dict(
            (await session.exec(select(CaseRow.stage, func.count()).group_by(CaseRow.stage))).all()
        )
        by_bucket = {bucket.value: 0 for bucket in (Bucket.CURRENT, *DELINQUENT)}
        by_bucket.update(await _open_by_bucket(session, now))

        cases = (
            await session.exec(
                select(CaseRow.closed_reason, CaseRow.updated_at).where(
                    col(CaseRow.opened_at) <= now,
                    col(CaseRow.closed_reason).is_(None) | (col(CaseRow.updated_at) >= start),
                )
            )
        ).all()
        cured_reasons = {ClosureReason.PAID.value, ClosureReason.CURED.value}
        cured = sum(1 for reason, at in cases if reason in cured_reasons and at <= now)

        promises = dict(
            (
                await session.exec(
                    select(PromiseRecordRow.status, func.count())
                    .where(col(PromiseRecordRow.resolved_at) >= start)
                    .group_by(PromiseRecordRow.status)
                )
            ).all()
        )
        outcomes = dict(
            (
                await session.exec(
                    select(HumanTaskRow.outcome, func.count())
                    .where(
                        HumanTaskRow.status == TaskStatus.DONE.value,
                        col(HumanTaskRow.closed_at) >= start,
                        col(HumanTaskRow.outcome).in_([o.value for o in RIGHT_PARTY | WRONG_PARTY]),
                    )
                    .group_by(HumanTaskRow.outcome)
                )
            ).all()
        )
        refusals = dict(
            (
                await session.exec(
                    select(ContactAttemptRow.reason, func.count())
                    .where(
                        ContactAttemptRow.status == AttemptStatus.REFUSED.value,
                        col(ContactAttemptRow.created_at) >= start,
                    )
                    .group_by(ContactAttemptRow.reason)
                    .order_by(func.count().desc())
                )
            ).all()
        )
    roll_rates = await _roll_rates(db, start, now)  # in its own session, not inside this one
    reached = sum(n for outcome, n in outcomes.items() if outcome in RIGHT_PARTY)
    return Kpis(
        as_of=now,
        window_days=window.days,
        by_stage={stage.value: stages.get(stage.value, 0) for stage in Stage},
        by_bucket=by_bucket,
        roll_rates=roll_rates,
        cure=Rate(cured, len(cases)),
        promise_kept=Rate(
            promises.get("kept", 0), promises.get("kept", 0) + promises.get("broken", 0)
        ),
        right_party_contact=Rate(reached, sum(outcomes.values())),
        refusals=refusals,
    )


async def _open_by_bucket(session: AsyncSession, now: datetime) -> dict[str, int]:
    """Open cases per bucket of their days past due at `now`, counted in SQL."""
    lengths = await day_lengths(session)
    bucket: ColumnElement[str] = case(
        *((at_least(floor, now=now, lengths=lengths), b.value) for floor, b in FLOORS),
        else_=Bucket.CURRENT.value,
    )
    # Grouped outside: PostgreSQL would not see the CASE in GROUP BY, with its own
    # parameters, as the one selected.
    rows = select(bucket.label("bucket")).where(col(CaseRow.closed_reason).is_(None)).subquery()
    counted = await session.exec(select(rows.c.bucket, func.count()).group_by(rows.c.bucket))
    return dict(counted.all())


Move = tuple[datetime, str, str | None, str]  # at, case, from bucket, to bucket


async def _roll_rates(db: Database, start: datetime, now: datetime) -> list[RollRate]:
    """Per delinquent bucket: the cases in it at the window's start or entering it within the
    window, and of those, the ones that moved on to a worse bucket within the window. A move is
    a write's (`bucket_moves`) or aging's (`_aging_moves`)."""
    async with db.session() as session:
        latest = (
            select(BucketMoveRow.case_id, func.max(BucketMoveRow.at).label("at"))
            .where(col(BucketMoveRow.at) < start)
            .group_by(col(BucketMoveRow.case_id))
            .subquery()
        )
        written_before = await session.exec(
            select(BucketMoveRow.at, BucketMoveRow.case_id, BucketMoveRow.to_bucket).join(
                latest,
                (col(BucketMoveRow.case_id) == latest.c.case_id)
                & (col(BucketMoveRow.at) == latest.c.at),
            )
        )
        written_within = await session.exec(
            select(
                BucketMoveRow.at,
                BucketMoveRow.case_id,
                BucketMoveRow.from_bucket,
                BucketMoveRow.to_bucket,
            ).where(col(BucketMoveRow.at) >= start, col(BucketMoveRow.at) <= now)
        )
        within: list[Move] = list(written_within.all())
        at_start = {case_id: (at, bucket) for at, case_id, bucket in written_before}
        for move in await _aging_moves(session, start, now):
            at, case_id, _, bucket = move
            if at >= start:
                within.append(move)
            elif (known := at_start.get(case_id)) is None or at > known[0]:
                at_start[case_id] = (at, bucket)
        # A case past the last floor before the window (which `_aging_moves` leaves out) is in
        # the worst bucket at its start, whatever bucket its last write named.
        for case_id in await _past_the_last_floor(session, start):
            at_start[case_id] = (start, DELINQUENT[-1].value)
    # M4+ has no worse bucket to roll to.
    present: dict[str, set[str]] = {bucket.value: set() for bucket in DELINQUENT[:-1]}
    rolled: dict[str, set[str]] = {bucket.value: set() for bucket in DELINQUENT[:-1]}
    for case_id, (_, bucket) in at_start.items():
        if bucket in present:
            present[bucket].add(case_id)
    for _, case_id, before, after in sorted(within, key=lambda move: move[:2]):
        if after in present:
            present[after].add(case_id)
        if before in rolled and worse(after, before):
            rolled[before].add(case_id)
    return [
        RollRate(bucket, Rate(len(rolled[bucket] & present[bucket]), len(present[bucket])))
        for bucket in present
    ]


async def _past_the_last_floor(session: AsyncSession, start: datetime) -> list[str]:
    """The cases open at `start` whose days past due had run past the last floor by then."""
    old, closures = await _aging_terms(session, start)
    rows = await session.exec(
        select(CaseRow.case_id)
        .outerjoin(closures, col(CaseRow.case_id) == closures.c.case_id)
        .where(
            col(CaseRow.due_origin).is_not(None),
            col(CaseRow.opened_at) < start,
            col(CaseRow.closed_reason).is_(None) | (closures.c.at >= start),
            old,
        )
    )
    return list(rows.all())


async def _aging_terms(
    session: AsyncSession, start: datetime
) -> tuple[ColumnElement[bool], Subquery]:
    """What both aging queries filter by: a case past the last floor at `start` (in its own
    day length), and each case's closure (its latest move to `closed`)."""
    lengths = await day_lengths(session)
    last_floor = AGING_MOVES[0][0]
    old = or_(
        false(),
        *(
            and_(
                col(CaseRow.day_seconds) == seconds,
                col(CaseRow.due_origin) <= start - timedelta(seconds=seconds) * last_floor,
            )
            for seconds in lengths
        ),
    )
    closures = (
        select(BucketMoveRow.case_id, func.max(BucketMoveRow.at).label("at"))
        .where(BucketMoveRow.to_bucket == Bucket.CLOSED.value)
        .group_by(col(BucketMoveRow.case_id))
        .subquery()
    )
    return old, closures


async def _aging_moves(session: AsyncSession, start: datetime, now: datetime) -> list[Move]:
    """The moves days past due made by running on, up to `now`, of the cases that were open
    at some time in the window and not yet past the last floor at its start: each floor an
    open case crossed after its first write and before its closure."""
    old, closures = await _aging_terms(session, start)
    rows = await session.exec(
        select(CaseRow, closures.c.at)
        .outerjoin(closures, col(CaseRow.case_id) == closures.c.case_id)
        .where(
            col(CaseRow.due_origin).is_not(None),
            col(CaseRow.opened_at) <= now,
            col(CaseRow.closed_reason).is_(None) | (closures.c.at >= start),
            not_(old),
        )
    )
    moves: list[Move] = []
    for row, closed_at in rows:
        assert row.due_origin is not None
        closed = row.closed_reason is not None and closed_at is not None
        for floor, before, after in AGING_MOVES:
            at = row.due_origin + timedelta(seconds=row.day_seconds) * floor
            # Aging moves no case before its opening (it opened in the later bucket), nor
            # after its closure, nor after `now`.
            if row.opened_at < at <= now and not (closed and at >= closed_at):
                moves.append((at, row.case_id, before.value, after.value))
    return moves
