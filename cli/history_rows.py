"""A row of `history show`, a timeline of them, and the rows of activities still retrying (which
the history shows only once they end)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from temporalio.api.workflow.v1 import PendingActivityInfo

from cli.history_words import at_minute, failure_text


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    kind: str
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"at": self.at.isoformat(), "kind": self.kind, "detail": self.detail}


@dataclass
class Timeline:
    rows: list[TimelineRow] = field(default_factory=list)
    undecoded: str = ""  # why some payloads could not be read, when some could not


def pending_rows(pending: Sequence[PendingActivityInfo]) -> list[TimelineRow]:
    """Activities still retrying: the history shows their failures only once they end."""
    rows = []
    for activity in pending:
        if activity.attempt <= 1 or not activity.HasField("last_failure"):
            continue
        at = activity.last_attempt_complete_time.ToDatetime(tzinfo=UTC)
        again = ""
        if activity.HasField("next_attempt_schedule_time"):
            next_try = activity.next_attempt_schedule_time.ToDatetime(tzinfo=UTC)
            again = f"; next try {at_minute(next_try)}"
        rows.append(
            TimelineRow(
                at,
                "activity_retry",
                f"{activity.activity_type.name} failed (attempt {activity.attempt - 1}): "
                f"{failure_text(activity.last_failure)}{again}",
            )
        )
    return rows
