"""The collection center's KPIs, counted from the read model over a window (30 days by default).

- cases by stage (every case the read model holds) and open cases by bucket (DPD band: M1 is
  1-30 days past due, M2 31-60, M3 61-90, M4+ over 90; `current` is not yet past due);
- roll rate from each bucket but M4+: of the cases that were in it during the window, the share that
  moved on to a worse bucket within the window (from `bucket_moves`);
- cure rate: of the cases open during the window, the share closed paid or cured within it;
- promise-kept rate: of the promises settled within the window, the share kept;
- right-party-contact rate: of the collectors' calls and visits completed within the window with
  a contact outcome, the share that reached the customer (reached, promise made, refused) rather
  than nobody or the wrong person (not found, wrong number);
- contacts the contact policy refused within the window, by reason.

Nothing here reads or returns personal data: counts only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func
from sqlmodel import col, select

from models.contracts import AttemptStatus, ClosureReason, Stage
from models.departments import TaskOutcome, TaskStatus
from readmodel.engine import Database
from readmodel.tables import (
    BucketMoveRow,
    CaseRow,
    ContactAttemptRow,
    HumanTaskRow,
    PromiseRecordRow,
)

WINDOW = timedelta(days=30)


class Bucket(StrEnum):
    CURRENT = "current"
    M1 = "M1"
    M2 = "M2"
    M3 = "M3"
    M4 = "M4+"
    CLOSED = "closed"


DELINQUENT = (Bucket.M1, Bucket.M2, Bucket.M3, Bucket.M4)
_RANK = {bucket: rank for rank, bucket in enumerate((Bucket.CURRENT, *DELINQUENT))}
RIGHT_PARTY = frozenset({TaskOutcome.REACHED, TaskOutcome.PROMISE_MADE, TaskOutcome.REFUSED})
WRONG_PARTY = frozenset({TaskOutcome.NOT_FOUND, TaskOutcome.WRONG_NUMBER})


def bucket_of(days_past_due: int, *, closed: bool = False) -> Bucket:
    if closed:
        return Bucket.CLOSED
    if days_past_due <= 0:
        return Bucket.CURRENT
    if days_past_due <= 30:
        return Bucket.M1
    if days_past_due <= 60:
        return Bucket.M2
    if days_past_due <= 90:
        return Bucket.M3
    return Bucket.M4


def worse(after: str, before: str) -> bool:
    """True when `after` is a worse delinquency bucket than `before` (closing never is)."""
    if after not in _RANK or before not in _RANK:
        return False
    return _RANK[Bucket(after)] > _RANK[Bucket(before)]


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True)
class RollRate:
    bucket: str
    rolled: Rate  # of the cases in the bucket during the window, those that got worse


@dataclass(frozen=True)
class Kpis:
    as_of: datetime
    window_days: int
    by_stage: dict[str, int]
    by_bucket: dict[str, int]
    roll_rates: list[RollRate]
    cure: Rate
    promise_kept: Rate
    right_party_contact: Rate
    refusals: dict[str, int]


async def center_kpis(db: Database, now: datetime, window: timedelta = WINDOW) -> Kpis:
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
