"""Click-to-call: a collector works a call task by pressing "call", and the case places it.
The handler and validator of `place_call`, as functions over the case's shell (`CaseShell`).

The call is a contact like a reminder: the contact policy decides first (the window in the
customer's time, the caps, seven quiet days after a conversation, a pause, a dispute ...), a
refusal is recorded with its reason and the time the customer may next be called, and an
allowed call goes out through the same exactly-once send as a reminder (Twilio, or the outbox
on a machine without it), under its own attempt key. The customer's phone rings first; when
they answer, the collector's phone is dialled in (`voice_bridge`). The call's status and length
come back by Twilio's status callback, like any call's.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.contracts import ActionResult, AttemptStatus
    from models.intake import mobile_problem
    from models.strategy import Channel
    from models.tasks import PlaceCallInput, TaskKind
    from workflows import task_rules
    from workflows.case_base import bounded, invalid
    from workflows.case_contact import policy_context, record_refusal, send
    from workflows.case_shell import CaseShell
    from workflows.contact_policy import decide

BRIDGE_TEMPLATE = "voice_bridge"
RING_WAIT = timedelta(seconds=30)  # how long the collector waits for the provider's answer


async def place_call(shell: CaseShell, req: PlaceCallInput) -> ActionResult:
    await shell.ready()
    validate_call(shell, req)
    now = workflow.now()
    task = shell.find_task(req.task_key)
    if task.assignee is None:
        shell.adopt_task(task_rules.claim(task, req.collector))
    decision = decide(policy_context(shell, Channel.VOICE, now))
    if not decision.allowed:
        await record_refusal(shell, Channel.VOICE, BRIDGE_TEMPLATE, now, decision)
        when = "; not by phone for now"
        if (earliest := decision.earliest) is not None:
            when = f"; the customer may be called from {earliest:%Y-%m-%d %H:%M} UTC"
        return shell.result(f"not called: {decision.reason}{when}", accepted=False)
    result = await send(
        shell,
        Channel.VOICE,
        BRIDGE_TEMPLATE,
        now + RING_WAIT,
        key=shell.next_key("c"),
        extra={"agent": req.agent_phone},
    )
    if result is None:
        return shell.result("not called: the provider did not answer; try again", False)
    if result.status is AttemptStatus.FAILED:
        why = result.reason or f"error {result.error_code}"
        return shell.result(f"not called: the provider refused the call ({why})", False)
    return shell.result("calling the customer; your phone rings when they answer")


def validate_call(shell: CaseShell, req: PlaceCallInput) -> None:
    bounded(req)
    if shell.open_state() is None:
        return
    task = shell.find_task(req.task_key)
    if task.kind is not TaskKind.COLLECTOR_CALL:
        raise invalid(f"a {task.kind} task is not worked by phone")
    if task.assignee and task.assignee != req.collector:
        raise invalid(f"task is locked to {task.assignee}")
    if mobile_problem(req.agent_phone.strip()):
        raise invalid("agent_phone is not a valid E.164 number")
