"""LegalReferralWorkflow: the legal department's handling of one case, on the `legal` task queue.

Id: `handoff_id("legal", account_no, n)`, started by the case as a child once a supervisor has
approved the referral; the id is also the key of the referral's `handoffs` row, the legal
team's inbox, which shows where the referral stands after every step.

Lifecycle: referred (the row is written, then `build_dossier` stores the evidence dossier on
it) -> legal accepts it, or returns it with a reason (outcome: RETURNED; the case takes it
back) -> accepted: proceedings are recorded in order (filed, hearings, judgment,
enforcement; see `proceeding_problem`) until SETTLED or CLOSED ends the referral (outcome:
that kind, with the note and amount). The case, the parent workflow, hears the outcome by the
signal `legal_outcome`; it is also the workflow's result. Cancelled (the case closed or moved
on), the referral marks its row `cancelled` and ends cancelled. A referral can live for years:
it continues as new when its history grows long, carrying its state; the dossier is built on
the first run only.

Updates, checked before they enter history, each answering `LegalReferralStatus` once the row
shows the change (and, when it ends the referral, once the case has been told):
accept(AcceptReferralInput), return_referral(ReturnReferralInput),
record_proceeding(ProceedingInput), set_contact_permission(ContactPermissionInput) — legal
lets the collection center contact the customer while it holds the case, or stops it; the case
hears of it by the signal `legal_contact_permission`.
Query: `referral -> LegalReferralStatus`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import date, timedelta

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from models.departments import (
        AcceptReferralInput,
        BuildDossierInput,
        CaseClosedNotice,
        ContactPermissionInput,
        DossierBuilt,
        HandoffWrite,
        LegalOutcome,
        LegalOutcomeKind,
        LegalReferralInput,
        LegalReferralStatus,
        LegalState,
        Precondition,
        Proceeding,
        ProceedingInput,
        ProceedingKind,
        ReturnReferralInput,
    )
    from models.permissions import LEGAL_OFFICERS, taken_by
    from workflows.case_base import STORE_RETRY, bounded, invalid, store

CONTACT_PERMISSION_SIGNAL = "legal_contact_permission"
OUTCOME_SIGNAL = "legal_outcome"
ACCEPTED_SIGNAL = "legal_accepted"
# The dossier reads every row the case has, years of them; a larger budget than a row write.
DOSSIER_TIMEOUT = timedelta(minutes=2)
# Staff record the date where they are; a date is in the future only once it is past today
# in every time zone (the earliest is UTC+14).
_EARLIEST_ZONE = timedelta(hours=14)

_Kind = ProceedingKind
# A lawsuit moves forward through these; a proceeding never goes back to an earlier one.
_ORDER = {_Kind.FILED: 1, _Kind.HEARING: 2, _Kind.JUDGMENT: 3, _Kind.ENFORCEMENT: 4}
_ONCE = frozenset({_Kind.FILED, _Kind.JUDGMENT})
_NEEDS = {
    _Kind.HEARING: _Kind.FILED,
    _Kind.JUDGMENT: _Kind.FILED,
    _Kind.ENFORCEMENT: _Kind.JUDGMENT,
}
_ENDS = {_Kind.SETTLED: LegalOutcomeKind.SETTLED, _Kind.CLOSED: LegalOutcomeKind.CLOSED}
_NOUN = {
    _Kind.FILED: "filing",
    _Kind.HEARING: "hearing",
    _Kind.JUDGMENT: "judgment",
    _Kind.ENFORCEMENT: "enforcement",
}
ORDER_TEXT = "filed -> hearing(s) -> judgment -> enforcement(s); settled or closed at any time"


def proceeding_problem(
    state: LegalState,
    req: ProceedingInput,
    preconditions: Sequence[Precondition],
    today: date,
) -> str | None:
    """Why legal's proceeding cannot be recorded, or None when it can. `today` is the latest
    date that is today somewhere."""
    if not req.by.strip():
        return "by is required"
    done = state.proceedings or []
    if state.status == "referred":
        return "the referral is not accepted yet: accept it first"
    if state.status != "accepted":
        if done and done[-1].kind in _ENDS:
            last = done[-1]
            return f"the referral ended ({last.kind} on {last.on}): nothing comes after it"
        return f"the referral is {state.status}: nothing can be recorded"
    if req.on > today:
        return f"the date {req.on} is in the future"
    if req.amount_minor is not None and req.amount_minor <= 0:
        return f"amount must be positive, got {req.amount_minor}"
    if done and req.on < done[-1].on:
        last = done[-1]
        return f"{req.on} is before the last proceeding ({last.kind} on {last.on})"
    if req.kind in _ENDS:
        return None
    return _order_problem(done, req.kind) or _filing_problem(req.kind, preconditions)


def _order_problem(done: Sequence[Proceeding], kind: ProceedingKind) -> str | None:
    noun = _NOUN[kind]
    earlier = {p.kind: p for p in done}
    if kind in _ONCE and kind in earlier:
        return f"the {noun} was already recorded (on {earlier[kind].on})"
    need = _NEEDS.get(kind)
    if need is not None and need not in earlier:
        return f"{_a(noun)} comes after the {_NOUN[need]}: record '{need}' first ({ORDER_TEXT})"
    steps = [p for p in done if p.kind in _ORDER]
    if steps and _ORDER[kind] < _ORDER[steps[-1].kind]:
        last = steps[-1]
        return (
            f"{_a(noun)} cannot come after the {_NOUN[last.kind]} (on {last.on}); "
            f"the order is {ORDER_TEXT}"
        )
    return None


def _filing_problem(kind: ProceedingKind, preconditions: Sequence[Precondition]) -> str | None:
    """Suing needs its preconditions met (for a card: two effective contacts 30 days apart,
    more than 3 months unpaid); legal can still return or close the referral."""
    unmet = [p.name for p in preconditions if not p.met]
    if kind == _Kind.FILED and unmet:
        return f"cannot file: precondition(s) not met: {', '.join(unmet)}"
    return None


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def _need(text: str, what: str) -> None:
    if not text.strip():
        raise invalid(f"{what} is required")


@workflow.defn(name="LegalReferral")
class LegalReferralWorkflow:
    @workflow.init
    def __init__(self, input: LegalReferralInput) -> None:
        self._input = input
        carried = input.carried
        self._state = carried if carried is not None else LegalState()
        if self._state.proceedings is None:
            self._state.proceedings = []
        self._referred = carried is not None  # the row and its dossier exist
        self._outcome: LegalOutcome | None = None
        # One row write at a time, in the order the steps happened: the row keeps the last.
        self._writing = asyncio.Lock()

    @workflow.run
    async def run(self, input: LegalReferralInput) -> LegalOutcome:
        try:
            if input.carried is None:
                await self._refer(input)
            await workflow.wait_condition(lambda: self._outcome is not None or self._history_long())
        except asyncio.CancelledError:
            # The case closed or moved on: the inbox must not keep showing a live referral.
            self._state.status = "cancelled"
            await self._write("cancelled", "cancelled: the case closed or moved on")
            raise
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._outcome is None:
            workflow.continue_as_new(dataclasses.replace(input, carried=self._state))
        return self._outcome

    async def _refer(self, input: LegalReferralInput) -> None:
        await self._write("referred", f"referred, approved by {input.approved_by}")
        summary = input.summary
        await workflow.execute_activity(
            "build_dossier",
            BuildDossierInput(
                handoff_key=workflow.info().workflow_id,
                case_id=summary.case_id,
                account_no=summary.account_no,
                approved_by=input.approved_by,
                preconditions=input.preconditions,
            ),
            result_type=DossierBuilt,
            start_to_close_timeout=DOSSIER_TIMEOUT,
            retry_policy=STORE_RETRY,
        )
        self._referred = True

    # --- legal's answer to the referral -----------------------------------------------------

    @workflow.update
    @taken_by(LEGAL_OFFICERS)
    async def accept(self, req: AcceptReferralInput) -> LegalReferralStatus:
        await workflow.wait_condition(lambda: self._referred)
        # Checked again: the state may have moved on since the validator ran.
        self._check_accept(req)
        self._state.status = "accepted"
        self._state.accepted_by = req.by
        note = f": {req.note}" if req.note else ""
        await self._write("accepted", f"accepted by {req.by}{note}")
        await self._tell_the_case(ACCEPTED_SIGNAL, req)
        return self.referral()

    @accept.validator
    def _check_accept(self, req: AcceptReferralInput) -> None:
        bounded(req)
        _need(req.by, "by")
        self._need_referred()

    @workflow.update
    @taken_by(LEGAL_OFFICERS)
    async def return_referral(self, req: ReturnReferralInput) -> LegalReferralStatus:
        await workflow.wait_condition(lambda: self._referred)
        self._check_return(req)
        self._state.status = "returned"
        outcome = LegalOutcome(kind=LegalOutcomeKind.RETURNED, reason=req.reason)
        self._outcome = outcome
        await self._write("returned", f"returned by {req.by}: {req.reason}")
        await self._tell_the_case(OUTCOME_SIGNAL, outcome)
        return self.referral()

    @return_referral.validator
    def _check_return(self, req: ReturnReferralInput) -> None:
        bounded(req)
        _need(req.by, "by")
        _need(req.reason, "a reason")
        self._need_referred()

    def _need_referred(self) -> None:
        state = self._state
        if state.status != "referred":
            by = f" by {state.accepted_by}" if state.accepted_by else ""
            raise invalid(f"the referral was already {state.status}{by}")

    # --- proceedings ------------------------------------------------------------------------

    @workflow.update
    @taken_by(LEGAL_OFFICERS)
    async def record_proceeding(self, req: ProceedingInput) -> LegalReferralStatus:
        self._check_proceeding(req)
        state = self._state
        proceedings = state.proceedings if state.proceedings is not None else []
        proceedings.append(
            Proceeding(
                kind=req.kind,
                on=req.on,
                by=req.by,
                note=req.note,
                amount_minor=req.amount_minor,
                recorded_at=workflow.now(),
            )
        )
        state.proceedings = proceedings
        ends = _ENDS.get(req.kind)
        outcome = None
        if ends is not None:
            state.status = "closed"
            reason = req.note or f"{req.kind} on {req.on} by {req.by}"
            outcome = LegalOutcome(kind=ends, reason=reason, amount_minor=req.amount_minor)
            self._outcome = outcome
        await self._write(req.kind.value, self._proceeding_text(req))
        if outcome is not None:
            await self._tell_the_case(OUTCOME_SIGNAL, outcome)
        return self.referral()

    @record_proceeding.validator
    def _check_proceeding(self, req: ProceedingInput) -> None:
        bounded(req)
        today = (workflow.now() + _EARLIEST_ZONE).date()
        problem = proceeding_problem(self._state, req, self._input.preconditions, today)
        if problem:
            raise invalid(problem)

    def _proceeding_text(self, req: ProceedingInput) -> str:
        text = f"{req.kind} on {req.on} by {req.by}"
        if req.amount_minor is not None:
            text += f", amount {req.amount_minor} {self._input.summary.currency}"
        return text + (f": {req.note}" if req.note else "")

    # --- contact while legal holds the case -------------------------------------------------

    @workflow.update
    @taken_by(LEGAL_OFFICERS)
    async def set_contact_permission(self, req: ContactPermissionInput) -> LegalReferralStatus:
        await workflow.wait_condition(lambda: self._referred)
        self._check_permission(req)
        self._state.contact_allowed = req.allowed
        await self._tell_the_case(CONTACT_PERMISSION_SIGNAL, req)
        allowed = "allowed" if req.allowed else "not allowed"
        await self._write(self._row_status(), f"contact {allowed} by {req.by}: {req.reason}")
        return self.referral()

    @set_contact_permission.validator
    def _check_permission(self, req: ContactPermissionInput) -> None:
        bounded(req)
        _need(req.by, "by")
        _need(req.reason, "a reason")
        if self._state.status not in ("referred", "accepted"):
            raise invalid(f"the referral is {self._state.status}: legal no longer holds the case")

    # --- the case closed while legal holds it ------------------------------------------------

    @workflow.signal
    async def case_closed(self, notice: CaseClosedNotice) -> None:
        """The case closed (paid, written off...): the referral stays legal's to end, and its
        inbox row says why, so nobody files or enforces against a debt that is gone."""
        await workflow.wait_condition(lambda: self._referred)
        self._state.case_closed = notice.reason
        await self._write(
            self._row_status(), f"the case closed ({notice.reason}); legal decides what follows"
        )

    # --- query and helpers ------------------------------------------------------------------

    @workflow.query
    def referral(self) -> LegalReferralStatus:
        state = self._state
        return LegalReferralStatus(
            key=workflow.info().workflow_id,
            case_id=self._input.summary.case_id,
            status=state.status,
            approved_by=self._input.approved_by,
            accepted_by=state.accepted_by,
            proceedings=tuple(state.proceedings or ()),
            contact_allowed=state.contact_allowed,
            preconditions=self._input.preconditions,
            outcome=self._outcome,
            case_closed=state.case_closed,
        )

    async def _tell_the_case(
        self, signal: str, what: LegalOutcome | ContactPermissionInput | AcceptReferralInput
    ) -> None:
        parent = workflow.info().parent
        if parent is None:
            return
        # By workflow id alone: the case may have continued as new since it started us.
        case = workflow.get_external_workflow_handle(parent.workflow_id)
        try:
            await case.signal(signal, what)
        except FailureError:
            workflow.logger.warning("the case has ended; %s stays on record here", signal)

    def _row_status(self) -> str:
        """What the row's status says now: the last proceeding, else the referral's status."""
        proceedings = self._state.proceedings
        return proceedings[-1].kind.value if proceedings else self._state.status

    def _history_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._input.history_limit
        )

    async def _write(self, status: str, reason: str) -> None:
        async with self._writing:
            write = HandoffWrite(
                key=workflow.info().workflow_id,
                case_id=self._input.summary.case_id,
                department="legal",
                status=status,
                reason=reason,
                at=workflow.now(),
            )
            await store("write_handoff", write)
