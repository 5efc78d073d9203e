"""Search attributes a case carries. Never personal data: stage, age, segment, a balance band."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

CASE_STAGE = SearchAttributeKey.for_keyword("CaseStage")
DAYS_PAST_DUE = SearchAttributeKey.for_int("DaysPastDue")
SEGMENT = SearchAttributeKey.for_keyword("CaseSegment")
BALANCE_BAND = SearchAttributeKey.for_keyword("BalanceBand")

ALL_KEYS = (CASE_STAGE, DAYS_PAST_DUE, SEGMENT, BALANCE_BAND)

# Upper bounds in major units; a band names a range, never the exact balance.
_BANDS = ((1_000, "under-1k"), (10_000, "1k-10k"), (100_000, "10k-100k"))


def balance_band(outstanding_minor: int) -> str:
    major = outstanding_minor // 100
    for bound, name in _BANDS:
        if major < bound:
            return name
    return "100k-plus"


BANDS = (*(name for _, name in _BANDS), "100k-plus")


def band_range(band: str) -> tuple[int, int | None]:
    """The outstanding balances in minor units that `balance_band` names `band`: [low, high)."""
    bounds = [0] + [bound * 100 for bound, _ in _BANDS] + [None]
    index = BANDS.index(band)
    low = bounds[index]
    assert low is not None
    return low, bounds[index + 1]


def case_query(
    stage: str | None = None, segment: str | None = None, min_dpd: int | None = None
) -> str:
    """A visibility query for cases; stage and segment must be known enum values (the callers
    take them as enums), so nothing needs quoting beyond the literals."""
    parts = ["WorkflowType = 'CollectionCase'", "ExecutionStatus != 'ContinuedAsNew'"]
    if stage is not None:
        parts.append(f"{CASE_STAGE.name} = '{stage}'")
    if segment is not None:
        parts.append(f"{SEGMENT.name} = '{segment}'")
    if min_dpd is not None:
        parts.append(f"{DAYS_PAST_DUE.name} >= {int(min_dpd)}")
    return " AND ".join(parts)
