"""Click-to-call: a collector works a call task by pressing "call", and the case places it.

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
    from models.people import COLLECTORS
    from models.permissions import taken_by
    from models.strategy import Channel
    from models.tasks import PlaceCallInput, TaskKind
    from workflows import task_rules
    from workflows.case_base import bounded, invalid
    from workflows.case_contact import CaseContact
    from workflows.contact_policy import decide

BRIDGE_TEMPLATE = "voice_bridge"
RING_WAIT = timedelta(seconds=30)  # how long the collector waits for the provider's answer


class CaseCalls(CaseContact):
    @workflow.update
    @taken_by(COLLECTORS)
    async def place_call(self, req: PlaceCallInput) -> ActionResult:
        await self._ready()
        self._validate_call(req)
        now = workflow.now()
        task = self._find_task(req.task_key)
        if task.assignee is None:
            self._adopt_task(task_rules.claim(task, req.collector))
        decision = decide(self._policy_context(Channel.VOICE, now))
        if not decision.allowed:
            await self._record_refusal(Channel.VOICE, BRIDGE_TEMPLATE, now, decision)
            when = "; not by phone for now"
            if (earliest := decision.earliest) is not None:
                when = f"; the customer may be called from {earliest:%Y-%m-%d %H:%M} UTC"
            return self._result(f"not called: {decision.reason}{when}", accepted=False)
        result = await self._send(
            Channel.VOICE,
            BRIDGE_TEMPLATE,
            now + RING_WAIT,
            key=self._next_key("c"),
            extra={"agent": req.agent_phone},
        )
        if result is None:
            return self._result("not called: the provider did not answer; try again", False)
        if result.status is AttemptStatus.FAILED:
            why = result.reason or f"error {result.error_code}"
            return self._result(f"not called: the provider refused the call ({why})", False)
        return self._result("calling the customer; your phone rings when they answer")

    @place_call.validator
    def _validate_call(self, req: PlaceCallInput) -> None:
        bounded(req)
        if self._open_state() is None:
            return
        task = self._find_task(req.task_key)
        if task.kind is not TaskKind.COLLECTOR_CALL:
            raise invalid(f"a {task.kind} task is not worked by phone")
        if task.assignee and task.assignee != req.collector:
            raise invalid(f"task is locked to {task.assignee}")
        if mobile_problem(req.agent_phone.strip()):
            raise invalid("agent_phone is not a valid E.164 number")
