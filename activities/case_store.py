"""The case store's activities: the workflows' writes to the read model.

Each is one call to `readmodel.writes`, where the writes and their idempotency live; the
activity names and inputs are part of recorded histories and do not change.
"""

from __future__ import annotations

from temporalio import activity

from activities.metrics import CONTACTS, ContactMetrics
from models.case_writes import (
    CaseWrite,
    WriteReceipt,
)
from models.contracts import (
    RefusedAttempt,
)
from models.departments import HandoffWrite
from readmodel import writes
from readmodel.engine import Database


class CaseStoreActivities:
    """The activities that keep the `cases` row and its history up to date."""

    def __init__(self, db: Database, *, metrics: ContactMetrics = CONTACTS) -> None:
        self._db = db
        self._metrics = metrics

    @activity.defn(name="write_case")
    async def write_case(self, write: CaseWrite) -> WriteReceipt | None:
        """The case row and what happened since the last write, in one transaction."""
        return await writes.write_case(self._db, write=write)

    @activity.defn(name="write_handoff")
    async def write_handoff(self, write: HandoffWrite) -> None:
        """A department's handoff row: created once, then its status moves on."""
        await writes.write_handoff(self._db, write=write)

    @activity.defn(name="record_refused_attempt")
    async def record_refused_attempt(self, attempt: RefusedAttempt) -> None:
        """A contact the policy refused: kept with its reason, once per idempotency key."""
        if await writes.record_refused_attempt(self._db, attempt=attempt):
            self._metrics.refused(attempt.channel, attempt.reason)
