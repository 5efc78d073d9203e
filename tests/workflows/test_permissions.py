"""The workflows' second line behind the front ends: a person's update is checked again inside
the case (the role, the person the input names, a second person where two are needed) and
refused with nothing recorded, whatever front end forgot to check. Services and the host's
command line, which carry no roles, keep the system's authority."""

from __future__ import annotations

import pytest
from temporalio import workflow

from models.contracts import (
    CloseInput,
    ClosureReason,
    ReasonInput,
    RecordPaymentInput,
    ResolveDisputeInput,
    Stage,
)
from models.people import Actor, Role
from models.permissions import UPDATE_ROLES, refusal, second_person_for
from models.tasks import ClaimTaskInput
from operations.answers import Outcome
from operations.gateway import Gateway
from tests.workflows.harness import CaseHarness
from workflows.case import CollectionCaseWorkflow as Case
from workflows.daily_intake import DailyIntakeWorkflow as DailyIntake
from workflows.legal_referral import LegalReferralWorkflow
from workflows.retention import RetentionWorkflow
from workflows.risk_review import RiskReviewWorkflow

ANN = Actor("ann.li", via="console", roles=(Role.OPERATIONS,))
SAM = Actor("sam.wu", via="console", roles=(Role.SUPERVISOR,))
WRITE_OFF = CloseInput(reason=ClosureReason.WRITTEN_OFF, note="uncollectable")


# --- the rule, as a pure function ------------------------------------------------------------


@pytest.mark.parametrize(
    ("arg", "needs"),
    [
        (CloseInput(ClosureReason.WRITTEN_OFF, ""), "writing off a case"),
        (CloseInput(ClosureReason.SETTLED, ""), "settling a case below its balance"),
        (CloseInput(ClosureReason.MANUAL, ""), ""),
        (ResolveDisputeInput(upheld=True, reason="r"), "resolving a dispute for the customer"),
        (ResolveDisputeInput(upheld=False, reason="r"), ""),
        (ReasonInput(reason="r"), ""),
    ],
)
def test_which_actions_need_a_second_person(arg: object, needs: str) -> None:
    assert second_person_for(arg) == needs


def test_a_person_needs_the_role_and_a_service_does_not() -> None:
    manual = CloseInput(ClosureReason.MANUAL, "")
    assert "needs the role supervisor" in refusal(ANN, "close", manual)
    assert refusal(SAM, "close", manual) == ""
    assert refusal(Actor("svc-intake", via="intake"), "close", WRITE_OFF) == ""
    assert refusal(None, "close", WRITE_OFF) == ""
    assert refusal(ANN, "refresh_account", object()) == ""  # the system's own update


def test_every_update_declares_who_may_send_it_beside_its_definition() -> None:
    """Roles are declared on each update (`taken_by`); one a person could reach undeclared
    would be refused to everyone, so none may be missing."""
    hosted = (Case, RiskReviewWorkflow, LegalReferralWorkflow, RetentionWorkflow, DailyIntake)
    updates = {name for cls in hosted for name in workflow._Definition.must_from_class(cls).updates}
    assert updates and updates == set(UPDATE_ROLES)
    assert UPDATE_ROLES["decide"] == frozenset({Role.RISK})
    assert refusal(ANN, "an_update_nobody_declared", object()) != ""


def test_a_second_person_must_be_named_and_not_the_first() -> None:
    assert "needs a second person's approval" in refusal(SAM, "close", WRITE_OFF)
    mirror = Actor("sam.wu", via="console", roles=(Role.SUPERVISOR,), approved_by="sam.wu")
    assert "cannot approve their own request" in refusal(mirror, "close", WRITE_OFF)
    checked = Actor("sam.wu", via="console", roles=(Role.SUPERVISOR,), approved_by="sue.ma")
    assert refusal(checked, "close", WRITE_OFF) == ""


def test_an_input_naming_another_person_is_refused() -> None:
    claim = ClaimTaskInput(task_key="t", collector="bob.ng")
    assert "collector is 'bob.ng', but ann.li is the one acting" in refusal(
        ANN, "claim_task", claim
    )
    assert refusal(ANN, "claim_task", ClaimTaskInput(task_key="t", collector="ann.li")) == ""


# --- in the workflow -------------------------------------------------------------------------


async def test_the_case_refuses_a_collector_closing_it_and_records_nothing(
    harness: CaseHarness,
) -> None:
    handle = await harness.start()
    gateway = Gateway(harness.client, answer_within=10)
    refused = await gateway.acting(ANN).update(
        handle.id, Case.close, CloseInput(ClosureReason.MANUAL, "by mistake")
    )
    assert refused.outcome is Outcome.FORBIDDEN
    assert "ann.li may not close: it needs the role supervisor" in refused.message
    status = (await gateway.query(handle.id, Case.status)).unwrap()
    assert status.stage is not Stage.CLOSED
    timeline = (await gateway.query(handle.id, Case.timeline)).unwrap()
    assert not [e for e in timeline if e.kind == "stage" and "closed" in e.detail]


async def test_a_write_off_needs_a_second_person_inside_the_case_too(harness: CaseHarness) -> None:
    handle = await harness.start()
    gateway = Gateway(harness.client, answer_within=10)
    alone = await gateway.acting(SAM).update(handle.id, Case.close, WRITE_OFF)
    assert alone.outcome is Outcome.FORBIDDEN
    assert "writing off a case needs a second person's approval" in alone.message
    mirror = Actor("sam.wu", via="console", roles=(Role.SUPERVISOR,), approved_by="sam.wu")
    self_approved = await gateway.acting(mirror).update(handle.id, Case.close, WRITE_OFF)
    assert self_approved.outcome is Outcome.FORBIDDEN
    assert (await gateway.query(handle.id, Case.status)).unwrap().stage is not Stage.CLOSED

    checked = Actor("sam.wu", via="console", roles=(Role.SUPERVISOR,), approved_by="sue.ma")
    closed = await gateway.acting(checked).update(handle.id, Case.close, WRITE_OFF)
    assert closed.ok, closed.message
    timeline = (await gateway.query(handle.id, Case.timeline)).unwrap()
    [event] = [e for e in timeline if e.kind == "stage" and "written_off" in e.detail]
    assert event.actor == "sam.wu (console), approved by sue.ma"


async def test_a_collector_may_record_a_payment_and_the_record_names_them(
    harness: CaseHarness,
) -> None:
    handle = await harness.start(outstanding=300_000, overdue=100_000)
    gateway = Gateway(harness.client, answer_within=10)
    paid = RecordPaymentInput(amount_minor=10_000, currency="CNY", payment_ref="P-1")
    assert (await gateway.acting(ANN).update(handle.id, Case.record_payment, paid)).ok
    timeline = (await gateway.query(handle.id, Case.timeline)).unwrap()
    assert ("payment", "ann.li (console)") in {(e.kind, e.actor) for e in timeline}
