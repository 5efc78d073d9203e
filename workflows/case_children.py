"""The department workflows a case starts and ends. A rule's effect queues one (the risk
review, the legal referral) with the case's summary; the run loop starts what is queued, with
ParentClosePolicy.ABANDON, so a case may continue as new while a referral lives on for years
(they report by signal to the case's id). A closed case drops what it had not started yet and
tells the departments that had one (`send_notice`).
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, assert_never

from temporalio import workflow
from temporalio.exceptions import FailureError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from models.departments import CaseClosedNotice
    from workflows.handoff_rules import CancelRiskReview, InformLegal
    from workflows.legal_referral import LegalReferralWorkflow


class CaseChildren:
    """Department workflows queued for the run loop to start: (type, input, id, task queue)."""

    def __init__(self) -> None:
        self._pending: list[tuple[str, object, str, str]] = []

    def queue(self, workflow_type: str, arg: object, child_id: str, task_queue: str) -> None:
        self._pending.append((workflow_type, arg, child_id, task_queue))

    async def start_pending(self) -> None:
        while self._pending:
            name, arg, child_id, queue = self._pending.pop(0)
            await workflow.start_child_workflow(
                name,
                arg,
                id=child_id,
                task_queue=queue,
                parent_close_policy=ParentClosePolicy.ABANDON,
            )

    def drop_unstarted(self) -> frozenset[str]:
        """Forgets the workflows not started yet; their ids."""
        unstarted = frozenset(child_id for _, _, child_id, _ in self._pending)
        self._pending.clear()
        return unstarted


def send_notice(notice: CancelRiskReview | InformLegal) -> Coroutine[Any, Any, None]:
    match notice:
        case CancelRiskReview():
            return _cancel(notice.review_id, notice.why)
        case InformLegal():
            return _tell_legal(notice.referral_id, CaseClosedNotice(reason=notice.why))
        case _:
            assert_never(notice)


async def _cancel(workflow_id: str, why: str) -> None:
    try:
        await workflow.get_external_workflow_handle(workflow_id).cancel(reason=why)
    except FailureError:
        workflow.logger.info("the department's workflow had already ended")


async def _tell_legal(workflow_id: str, notice: CaseClosedNotice) -> None:
    handle = workflow.get_external_workflow_handle_for(LegalReferralWorkflow.run, workflow_id)
    try:
        await handle.signal(LegalReferralWorkflow.case_closed, notice)
    except FailureError:
        workflow.logger.info("the legal referral had already ended")
