"""The retention workflow's activities: which closed cases are due, and erasing them
(`readmodel.retention`, where the rules of what goes and what stays live).

Erasing a case is idempotent (an erased case is left as it is), so a retried batch is safe;
it heartbeats after every case with how far it got, and a retry resumes from there, so that
the counts it returns are those of the whole batch, not of its last attempt.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from temporalio import activity

from models.retention import (
    ERASE_CASES,
    FIND_DUE,
    DueCases,
    DueCasesInput,
    EraseCasesInput,
    ErasureCounts,
)
from readmodel import retention
from readmodel.engine import Database


class RetentionActivities:
    def __init__(self, db: Database) -> None:
        self._db = db

    @activity.defn(name=FIND_DUE)
    async def find_due_for_erasure(self, input: DueCasesInput) -> DueCases:
        """Closed cases whose close is older than `before`, not erased yet, oldest first."""
        found = await retention.due_for_erasure(self._db, before=input.before, limit=input.limit)
        return DueCases(case_ids=tuple(found))

    @activity.defn(name=ERASE_CASES)
    async def erase_cases(self, input: EraseCasesInput) -> ErasureCounts:
        """Erases each case's personal data; what it changed, counted."""
        done, counts = _progress(activity.info().heartbeat_details)
        for n, case_id in enumerate(input.case_ids[done:], start=done + 1):
            counts += await retention.erase_case_personal_data(
                self._db,
                case_id,
                now=input.at,
                keep_closed_since=input.keep_closed_since,
                why=input.why,
            )
            activity.heartbeat(n, asdict(counts))
        return counts


def _progress(details: Any) -> tuple[int, ErasureCounts]:
    """How far an earlier attempt got: (cases done, their counts), from its last heartbeat."""
    if len(details) < 2:
        return 0, ErasureCounts()
    done, counts = details[0], details[1]
    return int(done), ErasureCounts(**counts)
