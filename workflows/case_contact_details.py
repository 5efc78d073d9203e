"""A customer's contact details after intake, as workflow updates: a new mobile number, an
address, a number found wrong. The rules are `contact_rules`'; here, what the shell does around
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
    from models.people import COLLECTORS
    from models.permissions import taken_by
    from models.tasks import TaskKind
    from workflows import contact_rules
    from workflows.case_base import CaseBase, bounded, invalid
    from workflows.steering_rules import OPERATIONS

MAX_ADDRESS = 300  # characters


def _need_source(source: object) -> None:
    if not isinstance(source, ContactSource):
        raise invalid(f"source must be one of {', '.join(ContactSource)}")


class CaseContactDetails(CaseBase):
    @workflow.update
    @taken_by(COLLECTORS)
    async def change_mobile(self, req: ChangeMobileInput) -> ActionResult:
        state = await self._ready()
        self._validate_mobile(req)
        self._decided(contact_rules.change_mobile(state, req, workflow.now()))
        self._contact_change = ContactChange(self._input.customer_ref, mobile=req.mobile)
        return self._result("mobile number changed; reminders and calls use it from now on")

    @change_mobile.validator
    def _validate_mobile(self, req: ChangeMobileInput) -> None:
        bounded(req)
        _need_source(req.source)
        # The reason names what is wrong with the number, never the number itself.
        if problem := mobile_problem(req.mobile if isinstance(req.mobile, str) else ""):
            raise invalid(problem)
        self._open_state()

    @workflow.update
    @taken_by(COLLECTORS)
    async def change_address(self, req: ChangeAddressInput) -> ActionResult:
        state = await self._ready()
        self._validate_address(req)
        self._decided(contact_rules.change_address(state, req, workflow.now()))
        self._contact_change = ContactChange(self._input.customer_ref, address=req.address)
        return self._result("address changed")

    @change_address.validator
    def _validate_address(self, req: ChangeAddressInput) -> None:
        bounded(req)
        _need_source(req.source)
        if not isinstance(req.address, str) or not req.address.strip():
            raise invalid("an address is required")
        if len(req.address) > MAX_ADDRESS:
            raise invalid(f"address is longer than {MAX_ADDRESS} characters")
        self._open_state()

    @workflow.update
    @taken_by(COLLECTORS)
    async def mark_number_wrong(self, req: WrongNumberInput) -> ActionResult:
        state = await self._ready()
        self._validate_wrong_number(req)
        self._decided(contact_rules.mark_number_wrong(state, req))
        if not any(t.kind is TaskKind.FIELD_VISIT for t in state.departments.tasks):
            self._open_task(TaskKind.FIELD_VISIT, OPERATIONS, "the number is wrong")
        return self._result("number marked wrong; no text or call goes to it, a visit is planned")

    @mark_number_wrong.validator
    def _validate_wrong_number(self, req: WrongNumberInput) -> None:
        bounded(req)
        if not isinstance(req.reason, str) or not req.reason.strip():
            raise invalid("a reason is required")
        self._open_state()
