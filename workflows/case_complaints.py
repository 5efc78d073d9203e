"""A customer's complaints on a case: the handlers and validators of the complaint updates, as
functions over the case's shell (`CaseShell`). Received by a collector, answered by a
supervisor before the regulatory deadline. The rules are `complaint_rules`'; here, what the
shell does around them: the supervisor's task (escalated past the deadline like any task) and
the register's rows.
"""

from __future__ import annotations

from dataclasses import replace

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.complaints import (
        Complaint,
        ComplaintCategory,
        ComplaintChannel,
        ComplaintInput,
        ComplaintOutcome,
        ComplaintRow,
        ResolveComplaintInput,
    )
    from models.contracts import ActionResult
    from models.tasks import TaskKind, TaskRecord, TaskStatus
    from workflows import complaint_rules
    from workflows.acting import current_actor_id
    from workflows.case_base import bounded, invalid
    from workflows.case_shell import CaseShell
    from workflows.steering_rules import SUPERVISOR


async def raise_complaint(shell: CaseShell, req: ComplaintInput) -> ActionResult:
    state = await shell.ready()
    validate_complaint(shell, req)
    key, task_key = shell.next_key("cp"), shell.next_key("t")
    shell.decided(complaint_rules.receive(state, req, workflow.now(), key, task_key))
    complaint = complaint_rules.open_complaint(state, key)
    assert complaint is not None
    shell.open_task(
        TaskKind.COMPLAINT,
        SUPERVISOR,
        f"answer the {req.category} complaint received by {req.channel}",
        key=task_key,
        deadline=complaint.deadline,
    )
    shell.records.complaints.append(_complaint_row(shell, complaint))
    paused = "; collection paused until it is answered" if complaint.pauses_collection else ""
    return shell.result(
        f"complaint {key} recorded, answer by {complaint.deadline:%Y-%m-%d}{paused}"
    )


def validate_complaint(shell: CaseShell, req: ComplaintInput) -> None:
    bounded(req)
    # A JSON null decodes to None whatever the input type: refuse it here.
    if not isinstance(req.category, ComplaintCategory):
        raise invalid(f"category must be one of {', '.join(ComplaintCategory)}")
    if not isinstance(req.channel, ComplaintChannel):
        raise invalid(f"channel must be one of {', '.join(ComplaintChannel)}")
    if not isinstance(req.asks, str) or not req.asks.strip():
        raise invalid("what the customer asks is required")
    shell.open_state()


async def resolve_complaint(shell: CaseShell, req: ResolveComplaintInput) -> ActionResult:
    state = await shell.ready()
    validate_resolution(shell, req)
    complaint = complaint_rules.open_complaint(state, req.key)
    assert complaint is not None
    now = workflow.now()
    shell.decided(complaint_rules.resolve(state, req, now))
    _close_complaint_tasks(shell, complaint, req.outcome)
    shell.records.complaints.append(
        replace(
            _complaint_row(shell, complaint),
            outcome=req.outcome,
            response=req.response,
            resolved_at=now,
            resolved_by=current_actor_id(),
        )
    )
    resumed = "; collection resumes" if complaint.pauses_collection else ""
    if complaint_rules.pausing(state):
        resumed = "; collection stays paused for another open complaint"
    return shell.result(f"complaint {req.key} answered: {req.outcome}{resumed}")


def validate_resolution(shell: CaseShell, req: ResolveComplaintInput) -> None:
    bounded(req)
    if not isinstance(req.outcome, ComplaintOutcome):
        raise invalid(f"outcome must be one of {', '.join(ComplaintOutcome)}")
    if not isinstance(req.response, str) or not req.response.strip():
        raise invalid("the answer to the customer is required")
    # Answered even on a closed case: the case waits for its complaints' answers.
    state = shell.state
    if state is not None and complaint_rules.open_complaint(state, req.key) is None:
        raise invalid(f"no open complaint {req.key} on this case")


def _complaint_row(shell: CaseShell, complaint: Complaint) -> ComplaintRow:
    return ComplaintRow(
        key=complaint.key,
        case_id=shell.id,
        category=complaint.category,
        channel=complaint.channel,
        asks=complaint.asks,
        received_at=complaint.received_at,
        deadline=complaint.deadline,
        pauses_collection=complaint.pauses_collection,
    )


def _close_complaint_tasks(
    shell: CaseShell, complaint: Complaint, outcome: ComplaintOutcome
) -> None:
    """The supervisor's task is done; an escalation of it is over once no complaint waits."""
    now = workflow.now()
    for task in list(shell.dept().tasks):
        answered = task.key == complaint.task_key
        escalated = (
            task.kind is TaskKind.ESCALATION
            and task.reopens is TaskKind.COMPLAINT
            and not shell.live().complaints
        )
        if answered or escalated:
            shell.replace_task(
                TaskRecord(
                    **{
                        **task.__dict__,
                        "status": TaskStatus.DONE,
                        "closed_at": now,
                        "assignee": current_actor_id(),
                        "note": f"complaint answered: {outcome}",
                    }
                )
            )
