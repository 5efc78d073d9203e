"""CollectionCaseWorkflow: one overdue account's whole life. Id: `case-<account_no>`.

Lifecycle: assess (the scorecard picks a segment and its strategy) -> early stage (the
segment's reminder ladder by SMS and automated voice, every contact checked by the contact
policy first; a refused contact waits durably until it may go) -> collector stage past the
collector threshold -> closed (paid, cured, settled, written off, dispute upheld, manual).
A promise pauses contact until its date plus grace, then is kept or broken; a dispute, a
pause or reported hardship stop contact and escalation until lifted.

Updates (validated before they enter history): record_payment, promise_to_pay, raise_dispute,
resolve_dispute, report_hardship, opt_out, opt_in, pause, resume, close, refresh_account
(case_actions), claim_task, assign_task, book_visit, check_in_visit, check_out_visit,
complete_task (case_tasks), place_call (case_calls), raise_complaint, resolve_complaint
(case_complaints), change_mobile, change_address, mark_number_wrong (case_contact_details).
Signals: contact_outcome (case_contact), risk_decided, legal_outcome, legal_accepted,
legal_contact_permission (case_handoffs). Queries: status, timeline (case_queries).

The class holds only what Temporal reads on it: the init, the run loop, and each handler as a
thin declaration (its name, its roles, its validator) that calls a function of the module
named above with the case's one `CaseShell` (case_shell), which owns the live state. All
decide through pure rules (case_rules, complaint_rules, contact_rules, task_rules,
steering_rules, handoff_rules, ladder_rules) and record typed events (models.case_events);
the shell adopts what they decide and carries out the effects they name.
The case continues as new when its history grows long, carrying its whole state.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.case_status import CaseStatus
    from models.complaints import ComplaintInput, ResolveComplaintInput
    from models.contact_details import ChangeAddressInput, ChangeMobileInput, WrongNumberInput
    from models.contracts import (
        Account,
        ActionResult,
        CaseInput,
        ChannelInput,
        CloseInput,
        ContactOutcome,
        PromiseToPayInput,
        ReasonInput,
        RecordPaymentInput,
        ResolveDisputeInput,
        Stage,
        TimelineEvent,
    )
    from models.departments import (
        AcceptReferralInput,
        ContactPermissionInput,
        LegalOutcome,
        RiskDecision,
    )
    from models.people import COLLECTORS, SUPERVISORS
    from models.permissions import EVERYONE, taken_by
    from models.tasks import (
        AssignTaskInput,
        ClaimTaskInput,
        CompleteTaskInput,
        PlaceCallInput,
        VisitCheckInput,
        VisitSlotInput,
    )
    from workflows import case_actions as actions
    from workflows import case_calls as calls
    from workflows import case_complaints as complaints
    from workflows import case_contact as contact
    from workflows import case_contact_details as details
    from workflows import case_handoffs as handoffs
    from workflows import case_queries as queries
    from workflows import case_rules as rules
    from workflows import case_schedule as schedule
    from workflows import case_tasks as tasks
    from workflows.case_shell import CaseShell
    from workflows.changes import CLOSE_AT_ONCE, NEWEST_RELEASE, QUIET_CASE


@workflow.defn(name="CollectionCase")
class CollectionCaseWorkflow:
    @workflow.init
    def __init__(self, input: CaseInput) -> None:
        self._shell = CaseShell(input)

    @workflow.run
    async def run(self, input: CaseInput) -> CaseStatus:
        shell = self._shell
        shell.quiet = shell.changes.taken(QUIET_CASE)
        state = shell.state or await schedule.open_case(shell, input)
        shell.state = state
        while state.stage is not Stage.CLOSED:
            # From here on, whatever an update or a signal changes wakes the wait below, even
            # while this loop is still awaiting a write.
            shell.changed = False
            schedule.note_stage(shell, workflow.now())
            if not schedule.sends_first(shell, workflow.now()):
                await shell.flush()
            if schedule.history_long(state):
                await workflow.wait_condition(workflow.all_handlers_finished)
                await shell.flush()
                rules.trim_for_carry(state, workflow.now())
                state.runs += 1
                workflow.continue_as_new(
                    dataclasses.replace(
                        input, carried=state, release=NEWEST_RELEASE, assessment=None
                    )
                )
            await shell.children.start_pending()
            now = workflow.now()
            action, at = schedule.next_due(shell, now)
            if at is None or at > now:
                # Nothing scheduled: an update, a signal or a department's answer wakes it.
                wait = None if at is None else at - now
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: shell.changed, timeout=wait)
                continue
            if action == "contact":
                await contact.contact_step(shell, now)
            elif action == "promise":
                schedule.check_promise(shell, now)
            elif action in schedule.DEPARTMENT_ACTIONS:
                schedule.department_work(shell, action, now)
        why = f"case closed ({state.closed_reason})"
        shell.cancel_open_tasks(why)
        if shell.changes.taken(CLOSE_AT_ONCE):
            # The closure is on record (read model, audit, search attributes, task lists) and
            # every department is told in the task that closed the case; the closing message
            # waits for the contact window on its own.
            notices = shell.end_departments(why)
            await asyncio.gather(shell.flush(), *notices)
        await contact.closing_message(shell)
        await shell.flush()
        if state.complaints:
            # A complaint is answered whatever happened to the debt: the case stays open for
            # its answer (no command unless a complaint is open, so older histories replay).
            await workflow.wait_condition(
                lambda: not state.complaints and workflow.all_handlers_finished()
            )
            await shell.flush()
        return self.status()

    # --- queries: case_queries ------------------------------------------------------------

    @workflow.query
    def status(self) -> CaseStatus:
        return queries.status(self._shell)

    @workflow.query
    def timeline(self) -> list[TimelineEvent]:
        return queries.timeline(self._shell)

    # --- operator actions: case_actions -----------------------------------------------------

    @workflow.update
    @taken_by(COLLECTORS)
    async def record_payment(self, req: RecordPaymentInput) -> ActionResult:
        return await actions.record_payment(self._shell, req)

    @record_payment.validator
    def _validate_payment(self, req: RecordPaymentInput) -> None:
        actions.validate_payment(self._shell, req)

    @workflow.update
    @taken_by(COLLECTORS)
    async def promise_to_pay(self, req: PromiseToPayInput) -> ActionResult:
        return await actions.promise_to_pay(self._shell, req)

    @promise_to_pay.validator
    def _validate_promise(self, req: PromiseToPayInput) -> None:
        actions.validate_promise(self._shell, req)

    @workflow.update
    @taken_by(COLLECTORS)
    async def raise_dispute(self, req: ReasonInput) -> ActionResult:
        return await actions.raise_dispute(self._shell, req)

    @raise_dispute.validator
    def _validate_dispute(self, req: ReasonInput) -> None:
        actions.validate_dispute(self._shell, req)

    @workflow.update
    @taken_by(SUPERVISORS)
    async def resolve_dispute(self, req: ResolveDisputeInput) -> ActionResult:
        return await actions.resolve_dispute(self._shell, req)

    @resolve_dispute.validator
    def _validate_resolve(self, req: ResolveDisputeInput) -> None:
        actions.validate_resolve(self._shell, req)

    @workflow.update
    @taken_by(COLLECTORS)
    async def report_hardship(self, req: ReasonInput) -> ActionResult:
        return await actions.report_hardship(self._shell, req)

    @report_hardship.validator
    def _validate_hardship(self, req: ReasonInput) -> None:
        actions.validate_hardship(self._shell, req)

    @workflow.update
    @taken_by(COLLECTORS)
    async def opt_out(self, req: ChannelInput) -> ActionResult:
        return await actions.opt_out(self._shell, req)

    @opt_out.validator
    def _validate_opt_out(self, req: ChannelInput) -> None:
        actions.validate_opt_out(self._shell, req)

    @workflow.update
    @taken_by(COLLECTORS)
    async def opt_in(self, req: ChannelInput) -> ActionResult:
        return await actions.opt_in(self._shell, req)

    @opt_in.validator
    def _validate_opt_in(self, req: ChannelInput) -> None:
        actions.validate_opt_in(self._shell, req)

    @workflow.update
    @taken_by(COLLECTORS)
    async def pause(self, req: ReasonInput) -> ActionResult:
        return await actions.pause(self._shell, req)

    @pause.validator
    def _validate_pause(self, req: ReasonInput) -> None:
        actions.validate_pause(self._shell, req)

    @workflow.update
    @taken_by(COLLECTORS)
    async def resume(self, req: ReasonInput) -> ActionResult:
        return await actions.resume(self._shell, req)

    @resume.validator
    def _validate_resume(self, req: ReasonInput) -> None:
        actions.validate_resume(self._shell, req)

    @workflow.update
    @taken_by(SUPERVISORS)
    async def close(self, req: CloseInput) -> ActionResult:
        return await actions.close(self._shell, req)

    @close.validator
    def _validate_close(self, req: CloseInput) -> None:
        actions.validate_close(self._shell, req)

    @workflow.update
    @taken_by(EVERYONE)
    async def refresh_account(self, account: Account) -> ActionResult:
        """The bank's daily file is the ledger: its balances replace the case's."""
        return await actions.refresh_account(self._shell, account)

    @refresh_account.validator
    def _validate_refresh(self, account: Account) -> None:
        actions.validate_refresh(self._shell, account)

    # --- tasks: case_tasks, case_calls ------------------------------------------------------

    @workflow.update
    @taken_by(COLLECTORS)
    async def claim_task(self, req: ClaimTaskInput) -> ActionResult:
        return await tasks.claim_task(self._shell, req)

    @claim_task.validator
    def _validate_claim(self, req: ClaimTaskInput) -> None:
        tasks.validate_claim(self._shell, req)

    @workflow.update
    @taken_by(SUPERVISORS)
    async def assign_task(self, req: AssignTaskInput) -> ActionResult:
        return await tasks.assign_task(self._shell, req)

    @assign_task.validator
    def _validate_assignment(self, req: AssignTaskInput) -> None:
        tasks.validate_assignment(self._shell, req)

    @workflow.update
    @taken_by(COLLECTORS)
    async def book_visit(self, req: VisitSlotInput) -> ActionResult:
        return await tasks.book_visit(self._shell, req)

    @book_visit.validator
    def _validate_booking(self, req: VisitSlotInput) -> None:
        tasks.validate_booking(self._shell, req)

    @workflow.update
    @taken_by(COLLECTORS)
    async def check_in_visit(self, req: VisitCheckInput) -> ActionResult:
        return await tasks.check_in_visit(self._shell, req)

    @check_in_visit.validator
    def _validate_check_in(self, req: VisitCheckInput) -> None:
        tasks.validate_check(self._shell, req, leaving=False)

    @workflow.update
    @taken_by(COLLECTORS)
    async def check_out_visit(self, req: VisitCheckInput) -> ActionResult:
        return await tasks.check_out_visit(self._shell, req)

    @check_out_visit.validator
    def _validate_check_out(self, req: VisitCheckInput) -> None:
        tasks.validate_check(self._shell, req, leaving=True)

    @workflow.update
    @taken_by(COLLECTORS)
    async def complete_task(self, req: CompleteTaskInput) -> ActionResult:
        return await tasks.complete_task(self._shell, req)

    @complete_task.validator
    def _validate_completion(self, req: CompleteTaskInput) -> None:
        tasks.validate_completion(self._shell, req)

    @workflow.update
    @taken_by(COLLECTORS)
    async def place_call(self, req: PlaceCallInput) -> ActionResult:
        return await calls.place_call(self._shell, req)

    @place_call.validator
    def _validate_call(self, req: PlaceCallInput) -> None:
        calls.validate_call(self._shell, req)

    # --- complaints: case_complaints --------------------------------------------------------

    @workflow.update
    @taken_by(COLLECTORS)
    async def raise_complaint(self, req: ComplaintInput) -> ActionResult:
        return await complaints.raise_complaint(self._shell, req)

    @raise_complaint.validator
    def _validate_complaint(self, req: ComplaintInput) -> None:
        complaints.validate_complaint(self._shell, req)

    @workflow.update
    @taken_by(SUPERVISORS)
    async def resolve_complaint(self, req: ResolveComplaintInput) -> ActionResult:
        return await complaints.resolve_complaint(self._shell, req)

    @resolve_complaint.validator
    def _validate_resolution(self, req: ResolveComplaintInput) -> None:
        complaints.validate_resolution(self._shell, req)

    # --- contact details: case_contact_details ----------------------------------------------

    @workflow.update
    @taken_by(COLLECTORS)
    async def change_mobile(self, req: ChangeMobileInput) -> ActionResult:
        return await details.change_mobile(self._shell, req)

    @change_mobile.validator
    def _validate_mobile(self, req: ChangeMobileInput) -> None:
        details.validate_mobile(self._shell, req)

    @workflow.update
    @taken_by(COLLECTORS)
    async def change_address(self, req: ChangeAddressInput) -> ActionResult:
        return await details.change_address(self._shell, req)

    @change_address.validator
    def _validate_address(self, req: ChangeAddressInput) -> None:
        details.validate_address(self._shell, req)

    @workflow.update
    @taken_by(COLLECTORS)
    async def mark_number_wrong(self, req: WrongNumberInput) -> ActionResult:
        return await details.mark_number_wrong(self._shell, req)

    @mark_number_wrong.validator
    def _validate_wrong_number(self, req: WrongNumberInput) -> None:
        details.validate_wrong_number(self._shell, req)

    # --- signals: case_contact, case_handoffs -----------------------------------------------

    @workflow.signal
    def contact_outcome(self, outcome: ContactOutcome) -> None:
        """A delivery or call status from the provider."""
        contact.contact_outcome(self._shell, outcome)

    @workflow.signal
    def risk_decided(self, decision: RiskDecision) -> None:
        """The risk department's decision, sent by its review workflow."""
        handoffs.risk_decided(self._shell, decision)

    @workflow.signal
    def legal_outcome(self, outcome: LegalOutcome) -> None:
        """The legal department's end of a referral, sent by its referral workflow."""
        handoffs.legal_outcome(self._shell, outcome)

    @workflow.signal
    def legal_accepted(self, acceptance: AcceptReferralInput) -> None:
        handoffs.legal_accepted(self._shell, acceptance)

    @workflow.signal
    def legal_contact_permission(self, permission: ContactPermissionInput) -> None:
        handoffs.legal_contact_permission(self._shell, permission)
