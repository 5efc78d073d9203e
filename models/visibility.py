"""Search attributes a case carries. Never personal data: stage, age, segment, a balance band.

A case's age is the instant its days past due are counted from (`OldestDueDate`), set once:
days past due at any moment are whole days of its strategy since then. Runs started before
patch `quiet-case-2026-12` rewrite `DaysPastDue` every day instead, so it stays registered;
`operations.case_search` asks both when people search by days past due.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

CASE_STAGE = SearchAttributeKey.for_keyword("CaseStage")
OLDEST_DUE_DATE = SearchAttributeKey.for_datetime("OldestDueDate")
SEGMENT = SearchAttributeKey.for_keyword("CaseSegment")
BALANCE_BAND = SearchAttributeKey.for_keyword("BalanceBand")
DAYS_PAST_DUE = SearchAttributeKey.for_int("DaysPastDue")  # runs started before the patch

ALL_KEYS = (CASE_STAGE, OLDEST_DUE_DATE, SEGMENT, BALANCE_BAND, DAYS_PAST_DUE)

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
    stage: str | None = None,
    segment: str | None = None,
    min_dpd: int | None = None,
    typed: str | None = None,
) -> str:
    """A visibility query for cases, as people would write it (days past due as
    `DaysPastDue`: `operations.case_search` asks it of what cases hold). Stage and segment must
    be known enum values (the callers take them as enums), so nothing needs quoting beyond the
    literals; `typed` is a search a person wrote, kept inside its parentheses."""
    parts = ["WorkflowType = 'CollectionCase'", "ExecutionStatus != 'ContinuedAsNew'"]
    if stage is not None:
        parts.append(f"{CASE_STAGE.name} = '{stage}'")
    if segment is not None:
        parts.append(f"{SEGMENT.name} = '{segment}'")
    if min_dpd is not None:
        parts.append(f"{DAYS_PAST_DUE.name} >= {int(min_dpd)}")
    if typed and typed.strip():
        parts.append(f"({typed.strip()})")
    return " AND ".join(parts)
