"""The collection center's KPIs: what they are and the buckets they count in. They are counted
from the read model over a window (30 days by default) by `readmodel.queries.kpis.center_kpis`.

- cases by stage (every case the read model holds) and open cases by bucket (DPD band: M1 is
  1-30 days past due, M2 31-60, M3 61-90, M4+ over 90; `current` is not yet past due);
- roll rate from each bucket but M4+: of the cases that were in it during the window, the share that
  moved on to a worse bucket within the window: the moves a write made (`bucket_moves`: an
  opening, a closure) and the moves of days past due running on, counted from each case's origin
  (`readmodel.aging`), since a quiet case no longer writes as it ages;
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

from models.tasks import CONVERSATION, TaskOutcome

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
RIGHT_PARTY = CONVERSATION
WRONG_PARTY = frozenset({TaskOutcome.NOT_FOUND, TaskOutcome.WRONG_NUMBER})


# The days past due each delinquent bucket starts at, worst first.
FLOORS = ((91, Bucket.M4), (61, Bucket.M3), (31, Bucket.M2), (1, Bucket.M1))
# Aging alone moves an open case on at each floor: (days, from, to).
AGING_MOVES = tuple(
    (days, below, bucket)
    for (days, bucket), below in zip(
        FLOORS, (Bucket.M3, Bucket.M2, Bucket.M1, Bucket.CURRENT), strict=True
    )
)


def bucket_of(days_past_due: int, *, closed: bool = False) -> Bucket:
    if closed:
        return Bucket.CLOSED
    for floor, bucket in FLOORS:
        if days_past_due >= floor:
            return bucket
    return Bucket.CURRENT


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
