"""The operator actions on a case and on its tasks, declared once: what each is called, the
update it runs, the input it takes (who may take it is `models.permissions.UPDATE_ROLES`). The
API's routes, the console's forms and the CLI's commands are made from these tables; adding an
action is a handler on the workflow, a row here and its roles there
(docs/decisions/0005-adding-an-operator-action.md).

`CASE_ACTIONS` are keyed by the case's account; `TASK_ACTIONS` by a task, whose row in the read
model names the case that owns it (`operations.departments.act_on_task` runs them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from temporalio.workflow import UpdateMethodMultiParam

from models.complaints import ComplaintInput, ResolveComplaintInput
from models.contact_details import ChangeAddressInput, ChangeMobileInput, WrongNumberInput
from models.contracts import (
    ActionResult,
    ChannelInput,
    CloseInput,
    PromiseToPayInput,
    ReasonInput,
    RecordPaymentInput,
    ResolveDisputeInput,
)
from models.permissions import UPDATE_ROLES
from models.tasks import (
    AssignTaskInput,
    ClaimTaskInput,
    CompleteTaskInput,
    PlaceCallInput,
    VisitCheckInput,
    VisitSlotInput,
)
from operations.roles import Role
from workflows.case import CollectionCaseWorkflow as Case


def update_name(update: UpdateMethodMultiParam[..., Any]) -> str:
    """The name a workflow's update is registered under (`record_payment`)."""
    name = update._defn.name
    assert name is not None, "the workflows' updates are named"
    return name


@dataclass(frozen=True)
class CaseAction:
    update: UpdateMethodMultiParam[[Any, Any], ActionResult]  # the case's update, by reference
    input_type: type
    summary: str

    @property
    def roles(self) -> frozenset[Role]:
        """Who may take it (`models.permissions`, which the workflows check too)."""
        return UPDATE_ROLES[self.name]

    @property
    def name(self) -> str:
        """As an operator says it: `record_payment` (the API's path; `record-payment` on the
        command line)."""
        return update_name(self.update)

    @property
    def command(self) -> str:
        return self.name.replace("_", "-")


_ACTIONS = (
    CaseAction(
        Case.record_payment,
        RecordPaymentInput,
        "Record a payment; a repeated payment_ref is answered accepted=false and changes "
        "nothing; an amount above the balance needs overpayment=true.",
    ),
    CaseAction(
        Case.promise_to_pay,
        PromiseToPayInput,
        "A promise to pay by a date: contact pauses until then.",
    ),
    CaseAction(Case.raise_dispute, ReasonInput, "The customer disputes the debt."),
    CaseAction(
        Case.resolve_dispute,
        ResolveDisputeInput,
        "Uphold (the case closes) or reject (collection resumes) the open dispute.",
    ),
    CaseAction(
        Case.report_hardship,
        ReasonInput,
        "Hardship: contact pauses and the risk department reviews the case.",
    ),
    CaseAction(
        Case.opt_out,
        ChannelInput,
        "No more contact on a channel; honoured even on a closing case.",
    ),
    CaseAction(Case.opt_in, ChannelInput, "Contact on a channel allowed again."),
    CaseAction(Case.pause, ReasonInput, "Nothing goes out until resumed."),
    CaseAction(Case.resume, ReasonInput, "Resume a paused case."),
    CaseAction(
        Case.close,
        CloseInput,
        "Close as settled, written off, manual ...; a payment, not this, closes as paid.",
    ),
    CaseAction(
        Case.raise_complaint,
        ComplaintInput,
        "A customer's complaint about the bank's conduct: a supervisor answers it by the "
        "regulatory deadline; collection pauses meanwhile where the strategy says so.",
    ),
    CaseAction(
        Case.change_mobile,
        ChangeMobileInput,
        "A new mobile number (E.164, valid for its country) with its source: texts and calls "
        "go to it from now on.",
    ),
    CaseAction(Case.change_address, ChangeAddressInput, "An address for a field visit."),
    CaseAction(
        Case.mark_number_wrong,
        WrongNumberInput,
        "The number reaches someone else: no text or call goes to it; a visit is planned.",
    ),
    CaseAction(
        Case.resolve_complaint,
        ResolveComplaintInput,
        "A supervisor's answer to an open complaint, with its outcome; taken on a closed case.",
    ),
)

CASE_ACTIONS: dict[str, CaseAction] = {action.name: action for action in _ACTIONS}


@dataclass(frozen=True)
class TaskAction:
    update: UpdateMethodMultiParam[[Any, Any], ActionResult]  # the case's update, by reference
    input_type: type  # a frozen dataclass whose `task_key` names the task
    word: str  # `POST /tasks/{task_key}/<word>`, and `collections tasks <word>`
    summary: str
    collector_is_caller: bool = False  # a `collector` left blank (the API's body) is the caller
    # Some of its inputs wait for a second person (`models.permissions.second_person_for`): 202.
    approval: bool = False
    internal: tuple[str, ...] = ()  # fields only the application sets (no front end sends them)

    @property
    def roles(self) -> frozenset[Role]:
        """Who may take it (`models.permissions`, which the workflows check too)."""
        return UPDATE_ROLES[self.name]

    @property
    def name(self) -> str:
        """The update's name (`claim_task`)."""
        return update_name(self.update)


_TASK_ACTIONS = (
    TaskAction(
        Case.claim_task,
        ClaimTaskInput,
        "claim",
        "Take a task: it is locked to you until you complete it.",
        collector_is_caller=True,
    ),
    TaskAction(
        Case.complete_task,
        CompleteTaskInput,
        "complete",
        "The outcome steers the case: a promise pauses contact, not found plans a visit ... "
        "Upholding a dispute or approving a legal referral waits for a second person (202).",
        collector_is_caller=True,
        approval=True,
    ),
    TaskAction(
        Case.assign_task,
        AssignTaskInput,
        "assign",
        "Puts the task in one person's queue (a supervisor's, or the allocator's, decision); an "
        "unknown or inactive person, or one whose role does not work the queue, is refused (400).",
        internal=("only_unassigned",),  # the allocator's
    ),
    TaskAction(
        Case.book_visit,
        VisitSlotInput,
        "book-visit",
        "Books a field visit within the contact hours in the customer's time; a visit nobody "
        "checks in to by the slot's end escalates to a supervisor.",
    ),
    TaskAction(
        Case.check_in_visit,
        VisitCheckInput,
        "check-in",
        "At the customer's door: the visit is kept, its report due within a day.",
        collector_is_caller=True,
    ),
    TaskAction(
        Case.check_out_visit,
        VisitCheckInput,
        "check-out",
        "Leaving the customer's door; then complete the task with the visit's report.",
        collector_is_caller=True,
    ),
    TaskAction(
        Case.place_call,
        PlaceCallInput,
        "call",
        "Click-to-call (a collector call task): the contact policy decides first; the customer's "
        "phone rings, then yours. A call the policy refuses now answers 200 with "
        "`accepted: false` and why, and the refusal is recorded like any contact's.",
        collector_is_caller=True,
    ),
)

TASK_ACTIONS: dict[str, TaskAction] = {action.word: action for action in _TASK_ACTIONS}
