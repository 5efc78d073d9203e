"""The center's trends, beside the figures every collector, team and the center have
(`readmodel.performance`). Days and months are UTC's.

- collected per day: the payments received on each UTC day of [since, until), per currency in
  minor units (a day the window cuts counts its part in the window);
- recovery rate, per currency: of the cases open at `since` (opened by then, not closed before
  it), the money they paid in [since, until) over what they owed at `since`. What a case owed
  then is its outstanding balance as last written plus every payment it received from `since`
  on: the read model keeps a balance, not its history, and payments are what lower it (a
  discount or write-off later on reads as still owed at `since`);
- roll-rate matrix per month: of the cases open at a month's start, by their bucket then
  (`readmodel.kpis`: current, M1 .. M4+), how many were in each bucket, or closed, at its end
  (the next month's start; `until` for the month under way), with each cell's share of its
  row. A case's bucket at an instant is `bucket_at`'s;
- cure-rate trend: each month's cure rate as the center's KPIs define it (`readmodel.kpis`: of
  the cases open during the month, the share closed paid or cured within it), counted by
  `center_kpis` over the month.
The months are the last `months` calendar months to `until`, the last one ending at `until`.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from readmodel import aging
from readmodel.engine import Database
from readmodel.kpis import DELINQUENT, Bucket, Rate, bucket_of
from readmodel.queries.kpis import center_kpis
from readmodel.tables import BucketMoveRow, CaseRow, PaymentRecordRow

OPEN = (Bucket.CURRENT, *DELINQUENT)
ENDS = (*OPEN, Bucket.CLOSED)
MONTHS = 6


@dataclass(frozen=True)
class DayCollected:
    day: date
    collected: dict[str, int]  # currency -> minor units


@dataclass(frozen=True)
class Aging:
    """A case as `bucket_at` reads it: the buckets its writes put it in, and its origin."""

    moves: list[tuple[datetime, str]] = field(default_factory=list)  # (at, bucket), oldest first
    due_origin: datetime | None = None
    day_seconds: int = 86_400


def bucket_at(case: Aging, at: datetime) -> Bucket | None:
    """The case's bucket at `at`: none before its first write; closed from a closing write on
    (until a later write opens it again); else the bucket of its days past due at `at`, counted
    from its origin (`readmodel.aging`), or the bucket written for a row without one."""
    written = bisect.bisect_right([moved for moved, _ in case.moves], at)
    if not written:
        return None
    bucket = Bucket(case.moves[written - 1][1])
    if bucket is Bucket.CLOSED or case.due_origin is None:
        return bucket
    days = aging.count(0, case.due_origin, case.day_seconds, closed=False, at=at)
    return bucket_of(days)


@dataclass(frozen=True)
class RollMatrix:
    month: date
    start: datetime
    end: datetime
    # bucket at the start (each open one) -> bucket at the end (each, and closed) -> cases
    cases: dict[str, dict[str, int]]

    def share(self, before: str, after: str) -> Rate:
        """Of the cases in `before` at the start, those in `after` at the end."""
        row = self.cases[before]
        return Rate(row[after], sum(row.values()))


def roll_matrix(cases: list[Aging], start: datetime, end: datetime) -> dict[str, dict[str, int]]:
    matrix = {before.value: {after.value: 0 for after in ENDS} for before in OPEN}
    for case in cases:
        before, after = bucket_at(case, start), bucket_at(case, end)
        if before is not None and before is not Bucket.CLOSED and after is not None:
            matrix[before.value][after.value] += 1
    return matrix


@dataclass(frozen=True)
class MonthRate:
    month: date
    start: datetime
    end: datetime
    cure: Rate


@dataclass(frozen=True)
class CenterTrends:
    collected_per_day: list[DayCollected]
    recovery: dict[str, Rate]  # currency -> collected / owed at `since`, both minor units
    roll_matrices: list[RollMatrix]  # oldest month first
    cure_trend: list[MonthRate]


def month_spans(until: datetime, months: int) -> list[tuple[datetime, datetime]]:
    """The last `months` UTC calendar months to `until`, oldest first, the last ending there."""
    last = until.astimezone(UTC) - timedelta(microseconds=1)
    start = last.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    starts = [start]
    while len(starts) < months:
        starts.insert(0, (starts[0] - timedelta(days=1)).replace(day=1))
    ends = [(s + timedelta(days=32)).replace(day=1) for s in starts]
    return [(s, min(e, until)) for s, e in zip(starts, ends, strict=True)]


def days_of(since: datetime, until: datetime) -> list[date]:
    first = since.astimezone(UTC).date()
    last = (until.astimezone(UTC) - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


async def center_trends(
    db: Database, *, since: datetime, until: datetime, months: int = MONTHS
) -> CenterTrends:
    spans = month_spans(until, months)
    async with db.session() as session:
        per_day = await _collected_per_day(session, since, until)
        recovery = await _recovery(session, since, until)
        cases = await _aging(session, spans[0][0], spans[-1][1])
    matrices = [
        RollMatrix(start.date(), start, end, roll_matrix(cases, start, end)) for start, end in spans
    ]
    trend = []
    for start, end in spans:  # each in its own sessions, one month after the other
        kpis = await center_kpis(db, now=end, window=end - start)
        trend.append(MonthRate(start.date(), start, end, kpis.cure))
    return CenterTrends(per_day, recovery, matrices, trend)


async def _collected_per_day(
    session: AsyncSession, since: datetime, until: datetime
) -> list[DayCollected]:
    payment = PaymentRecordRow
    days: dict[date, Counter[str]] = {day: Counter() for day in days_of(since, until)}
    for at, amount, currency in await session.exec(
        select(payment.received_at, payment.amount_minor, payment.currency).where(
            col(payment.received_at) >= since, col(payment.received_at) < until
        )
    ):
        days[at.astimezone(UTC).date()][currency] += amount
    return [DayCollected(day, dict(sorted(paid.items()))) for day, paid in days.items()]


async def _recovery(session: AsyncSession, since: datetime, until: datetime) -> dict[str, Rate]:
    open_then = (col(CaseRow.opened_at) <= since) & (
        col(CaseRow.closed_reason).is_(None) | (col(CaseRow.updated_at) >= since)
    )
    owed: Counter[str] = Counter()
    collected: Counter[str] = Counter()
    for currency, outstanding in await session.exec(
        select(CaseRow.currency, CaseRow.outstanding_minor).where(open_then)
    ):
        owed[currency] += outstanding
    payment = PaymentRecordRow
    for at, amount, currency in await session.exec(
        select(payment.received_at, payment.amount_minor, payment.currency).where(
            col(payment.received_at) >= since,
            col(payment.case_id).in_(select(CaseRow.case_id).where(open_then)),
        )
    ):
        owed[currency] += amount  # paid since `since`: owed then
        if at < until:
            collected[currency] += amount
    return {currency: Rate(collected[currency], owed[currency]) for currency in sorted(owed)}


async def _aging(session: AsyncSession, first: datetime, last: datetime) -> list[Aging]:
    """The cases that may be open at some time in [first, last]: their moves up to `last`."""
    maybe_open = (col(CaseRow.opened_at) <= last) & (
        col(CaseRow.closed_reason).is_(None) | (col(CaseRow.updated_at) >= first)
    )
    moves: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for case_id, at, bucket in await session.exec(
        select(BucketMoveRow.case_id, BucketMoveRow.at, BucketMoveRow.to_bucket)
        .where(
            col(BucketMoveRow.at) <= last,
            col(BucketMoveRow.case_id).in_(select(CaseRow.case_id).where(maybe_open)),
        )
        .order_by(col(BucketMoveRow.at))
    ):
        moves[case_id].append((at, bucket))
    return [
        Aging(moves[case_id], origin, day_seconds)
        for case_id, origin, day_seconds in await session.exec(
            select(CaseRow.case_id, CaseRow.due_origin, CaseRow.day_seconds).where(maybe_open)
        )
    ]
