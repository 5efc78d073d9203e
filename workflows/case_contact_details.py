"""A customer's contact details after intake: the handlers and validators of the updates that
change them (a new mobile number, an address, a number found wrong), as functions over the
case's shell (`CaseShell`). The rules are `contact_rules`'; here, what the shell does around
them: the customer row the read model keeps, and a field visit when no phone reaches them.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.contact_details import (
        ChangeAddressInput,
        ChangeMobileInput,
        ContactChange,
        ContactSource,
        WrongNumberInput,
    )
    from models.contracts import ActionResult
    from models.intake import mobile_problem
    from models.tasks import TaskKind
    from workflows import contact_rules
    from workflows.case_base import bounded, invalid
    from workflows.case_shell import CaseShell
    from workflows.steering_rules import OPERATIONS

MAX_ADDRESS = 300  # characters


def _need_source(source: object) -> None:
    if not isinstance(source, ContactSource):
        raise invalid(f"source must be one of {', '.join(ContactSource)}")


async def change_mobile(shell: CaseShell, req: ChangeMobileInput) -> ActionResult:
    state = await shell.ready()
    validate_mobile(shell, req)
    shell.decided(contact_rules.change_mobile(state, req, workflow.now()))
    shell.records.contact = ContactChange(shell.input.customer_ref, mobile=req.mobile)
    return shell.result("mobile number changed; reminders and calls use it from now on")


def validate_mobile(shell: CaseShell, req: ChangeMobileInput) -> None:
    bounded(req)
    _need_source(req.source)
    # The reason names what is wrong with the number, never the number itself.
    if problem := mobile_problem(req.mobile if isinstance(req.mobile, str) else ""):
        raise invalid(problem)
    shell.open_state()


async def change_address(shell: CaseShell, req: ChangeAddressInput) -> ActionResult:
    state = await shell.ready()
    validate_address(shell, req)
    shell.decided(contact_rules.change_address(state, req, workflow.now()))
    shell.records.contact = ContactChange(shell.input.customer_ref, address=req.address)
    return shell.result("address changed")


def validate_address(shell: CaseShell, req: ChangeAddressInput) -> None:
    bounded(req)
    _need_source(req.source)
    if not isinstance(req.address, str) or not req.address.strip():
        raise invalid("an address is required")
    if len(req.address) > MAX_ADDRESS:
        raise invalid(f"address is longer than {MAX_ADDRESS} characters")
    shell.open_state()


async def mark_number_wrong(shell: CaseShell, req: WrongNumberInput) -> ActionResult:
    state = await shell.ready()
    validate_wrong_number(shell, req)
    shell.decided(contact_rules.mark_number_wrong(state, req))
    if not any(t.kind is TaskKind.FIELD_VISIT for t in state.departments.tasks):
        shell.open_task(TaskKind.FIELD_VISIT, OPERATIONS, "the number is wrong")
    return shell.result("number marked wrong; no text or call goes to it, a visit is planned")


def validate_wrong_number(shell: CaseShell, req: WrongNumberInput) -> None:
    bounded(req)
    if not isinstance(req.reason, str) or not req.reason.strip():
        raise invalid("a reason is required")
    shell.open_state()
