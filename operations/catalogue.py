"""The operator actions on a case, declared once: what each is called, the update it runs, the
input it takes (who may take it is `models.permissions.UPDATE_ROLES`). The API's routes, the
console's forms and the CLI's commands are made from this table; adding an action is a handler
on the workflow, a row here and its roles there
(docs/decisions/0005-adding-an-operator-action.md)."""

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
