"""Contracts of the retention workflow: the daily erasure of personal data past its period.

Plain, frozen types that cross Temporal boundaries (`workflows.retention`, `activities.retention`,
the schedule that starts it). They carry case ids, times and counts: never personal data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

RETENTION_WORKFLOW = "Retention"  # the workflow type a schedule starts by name
RETENTION_SCHEDULE = "collections-retention"  # the Temporal Schedule that starts it daily
FIND_DUE = "find_due_for_erasure"
ERASE_CASES = "erase_cases"
RETENTION_YEARS = 5  # the records rule: personal data goes five years after a case closes


@dataclass(frozen=True)
class ErasureCounts:
    """What an erasure changed: cases erased, customers whose name and phone number went, and
    the audit entries, handoffs and approvals whose free text went."""

    cases: int = 0
    customers: int = 0
    audit_entries: int = 0
    handoffs: int = 0
    approvals: int = 0

    def __add__(self, other: ErasureCounts) -> ErasureCounts:
        return ErasureCounts(
            cases=self.cases + other.cases,
            customers=self.customers + other.customers,
            audit_entries=self.audit_entries + other.audit_entries,
            handoffs=self.handoffs + other.handoffs,
            approvals=self.approvals + other.approvals,
        )


@dataclass(frozen=True)
class RetentionInput:
    """`years` after a case closes, its personal data goes; `batch_size` cases per activity.
    `before`, `batches` and `erased` are carried across continue-as-new: the cut-off of the
    first run and what was erased so far."""

    years: int = RETENTION_YEARS
    batch_size: int = 200
    before: datetime | None = None
    batches: int = 0
    erased: ErasureCounts = field(default_factory=ErasureCounts)


@dataclass(frozen=True)
class RetentionResult:
    before: datetime  # cases closed before this were due
    batches: int
    erased: ErasureCounts


@dataclass(frozen=True)
class DueCasesInput:
    before: datetime
    limit: int


@dataclass(frozen=True)
class DueCases:
    case_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class EraseCasesInput:
    """Erase these closed cases; `at` is the erasure's time (one per batch, so a retry writes
    the same marker); a customer keeps name and phone number while a case of theirs is open or
    closed at or after `keep_closed_since`."""

    case_ids: tuple[str, ...]
    at: datetime
    keep_closed_since: datetime | None = None
    why: str = "retention period passed"
