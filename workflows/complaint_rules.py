"""Pure rules of a customer's complaints: received, answered. No Temporal, no I/O.

As in `case_rules`: a rule takes the case's state and returns `Decided`, the new state and
the events that say what changed, leaving the state it was given as it was.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from models.case_events import CaseEvent, ComplaintReceived, ComplaintResolved
from models.complaints import Complaint, ComplaintInput, ResolveComplaintInput
from models.contracts import CaseState
from workflows.case_rules import Decided, day, resume_ladder


def receive(
    state: CaseState, req: ComplaintInput, now: datetime, key: str, task_key: str
) -> Decided:
    """A complaint is on record with its deadline and the supervisor's task that answers it;
    collection pauses if the strategy says so."""
    rules = state.assessment.strategy.complaints
    complaint = Complaint(
        key=key,
        category=req.category,
        channel=req.channel,
        asks=req.asks,
        received_at=now,
        deadline=now + day(state.assessment.strategy) * rules.deadline_days,
        pauses_collection=rules.pause_collection,
        task_key=task_key,
    )
    received = ComplaintReceived(
        key=key,
        category=req.category,
        channel=req.channel,
        asks=req.asks,
        answer_by=complaint.deadline.isoformat(),
        pauses_collection=complaint.pauses_collection,
    )
    return replace(state, complaints=[*state.complaints, complaint]), (received,)


def open_complaint(state: CaseState, key: str) -> Complaint | None:
    return next((c for c in state.complaints if c.key == key), None)


def pausing(state: CaseState) -> bool:
    """Whether an open complaint holds collection (reminders and collector calls)."""
    return any(c.pauses_collection for c in state.complaints)


def resolve(state: CaseState, req: ResolveComplaintInput, now: datetime) -> Decided:
    """The complaint is answered; collection resumes once no open complaint holds it (with the
    latest reminder due, never a burst of stale ones)."""
    left = [c for c in state.complaints if c.key != req.key]
    changed = replace(state, complaints=left)
    events: tuple[CaseEvent, ...] = (
        ComplaintResolved(key=req.key, outcome=req.outcome, response=req.response),
    )
    if pausing(state) and not pausing(changed):
        return resume_ladder(changed, now, events)
    return changed, events
