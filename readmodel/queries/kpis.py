"""The collection center's KPIs counted from the read model (see `readmodel.kpis`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from models.contracts import AttemptStatus, ClosureReason, Stage
from models.departments import TaskStatus
from readmodel.engine import Database
from readmodel.kpis import (
    DELINQUENT,
    RIGHT_PARTY,
    WINDOW,
    WRONG_PARTY,
    Bucket,
    Kpis,
    Rate,
    RollRate,
    bucket_of,
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
        open_dpd = await session.exec(
            select(CaseRow.days_past_due).where(col(CaseRow.closed_reason).is_(None))
        )
        by_bucket = {bucket.value: 0 for bucket in (Bucket.CURRENT, *DELINQUENT)}
        for dpd in open_dpd:
            by_bucket[bucket_of(dpd).value] += 1

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


async def _roll_rates(db: Database, start: datetime, now: datetime) -> list[RollRate]:
    """Per delinquent bucket: the cases in it at the window's start or entering it within the
    window, and of those, the ones that moved on to a worse bucket within the window."""
    async with db.session() as session:
        latest = (
            select(BucketMoveRow.case_id, func.max(BucketMoveRow.at).label("at"))
            .where(col(BucketMoveRow.at) < start)
            .group_by(col(BucketMoveRow.case_id))
            .subquery()
        )
        at_start = await session.exec(
            select(BucketMoveRow.case_id, BucketMoveRow.to_bucket).join(
                latest,
                (col(BucketMoveRow.case_id) == latest.c.case_id)
                & (col(BucketMoveRow.at) == latest.c.at),
            )
        )
        within = await session.exec(
            select(BucketMoveRow.case_id, BucketMoveRow.from_bucket, BucketMoveRow.to_bucket)
            .where(col(BucketMoveRow.at) >= start, col(BucketMoveRow.at) <= now)
            .order_by(col(BucketMoveRow.at))
        )
        # M4+ has no worse bucket to roll to.
        present: dict[str, set[str]] = {bucket.value: set() for bucket in DELINQUENT[:-1]}
        rolled: dict[str, set[str]] = {bucket.value: set() for bucket in DELINQUENT[:-1]}
        for case_id, bucket in at_start:
            if bucket in present:
                present[bucket].add(case_id)
        for case_id, before, after in within:
            if after in present:
                present[after].add(case_id)
            if before in rolled and worse(after, before):
                rolled[before].add(case_id)
    return [
        RollRate(bucket, Rate(len(rolled[bucket] & present[bucket]), len(present[bucket])))
        for bucket in present
    ]
