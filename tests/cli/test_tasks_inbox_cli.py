"""`collections tasks` and `collections inbox`: collectors' tasks, and the risk and legal
departments' handoffs, driven through the commands' async cores against the real case, risk
review and legal referral workflows, each on its own queue (the `departments` fixture)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from cli import approvals as approvals_cli
from cli import case as case_cli
from cli import inbox, task_actions, tasks
from cli.inbox import Department
from cli.main import app
from cli.tasks import Queue
from models.contracts import ClosureReason, ReasonInput
from models.departments import (
    AcceptReferralInput,
    ContactPermissionInput,
    Instalment,
    ProceedingInput,
    ProceedingKind,
    RiskDecision,
    RiskDecisionKind,
)
from models.tasks import (
    ClaimTaskInput,
    CompleteTaskInput,
    FieldVisitReport,
    TaskKind,
    TaskOutcome,
    TaskStatus,
)
from tests.cli.test_case_cli import MOBILE, Cli, Ran, cli_for, started
from tests.staffing import add_person
from tests.workflows import harness as workflow_harness
from tests.workflows.harness import CaseHarness
from tests.workflows.harness import test_settings as settings_for
from tests.workflows.test_case_departments import legal_ready_case
from workflows.case import CollectionCaseWorkflow as Case

# The case harness's fixtures, and `departments`: workers for the collections, risk and legal
# queues, as three departments run them.
fake_twilio = workflow_harness.fake_twilio
harness = workflow_harness.harness
sqlite_db = workflow_harness.sqlite_db
departments = workflow_harness.departments


async def until(cli: Cli, core: Callable[..., Awaitable[int]], found: Callable[[Any], bool]) -> Any:
    """The command's JSON once `found` holds: the read model trails the workflow a little."""
    for _ in range(50):
        ran = await cli(core, json_output=True)
        document = ran.json()
        if found(document):
            return document
        await asyncio.sleep(0.1)
    raise AssertionError(f"never found; last answer {document}")


async def test_tasks_are_listed_claimed_and_completed(harness: CaseHarness) -> None:
    cli = cli_for(harness)
    account = await started(harness, dpd=40)  # in the collector stage: a call is due
    listed = await until(
        cli,
        lambda env: tasks.list_tasks(
            env, queue=Queue.OPERATIONS, status=TaskStatus.OPEN, case=account
        ),
        lambda d: d["tasks"],
    )
    [task] = listed["tasks"]
    assert task["kind"] == "collector_call" and task["case_id"] == f"case-{account}"
    key = task["task_key"]
    ran = await cli(lambda env: tasks.list_tasks(env, case=account))
    assert ran.out.startswith("task\tkind\tqueue\tstatus") and f"{key}\tcollector_call" in ran.out

    claim = await cli(lambda env: task_actions.claim_task(env, ClaimTaskInput(key, "c-1")))
    assert claim.code == 0 and "task claimed by c-1" in claim.out
    other = await cli(lambda env: task_actions.claim_task(env, ClaimTaskInput(key, "c-2")))
    assert other.code == 1 and "refused: task is locked to c-1" in other.err

    def complete(**fields: Any) -> Callable[..., Awaitable[int]]:
        req = CompleteTaskInput(task_key=key, collector="c-1", **fields)
        return lambda env: task_actions.complete_task(env, req)

    no_date = await cli(complete(outcome=TaskOutcome.PROMISE_MADE, promised_amount_minor=50_000))
    assert no_date.code == 1 and "refused: a promise needs its amount and date" in no_date.err
    wrong = await cli(complete(outcome=TaskOutcome.APPROVED))
    assert wrong.code == 1 and "approved is not an outcome of a collector_call" in wrong.err

    promised = (await harness.today()) + timedelta(days=7)
    done = await cli(
        complete(
            outcome=TaskOutcome.PROMISE_MADE,
            promised_amount_minor=50_000,
            promised_date=promised,
            note="will pay from salary",
        ),
        json_output=True,
    )
    assert done.code == 0
    assert done.json()["message"] == "promise recorded; contact paused until it is due"
    finished = await until(
        cli,
        lambda env: tasks.list_tasks(env, status=TaskStatus.DONE, assignee="c-1"),
        lambda d: any(t["task_key"] == key for t in d["tasks"]),
    )
    assert [t["outcome"] for t in finished["tasks"] if t["task_key"] == key] == ["promise_made"]

    again = await cli(complete(outcome=TaskOutcome.REACHED))
    assert again.code == 1 and f"refused: no open task {key} on this case" in again.err
    unknown = await cli(
        lambda env: task_actions.claim_task(env, ClaimTaskInput("case-x/1/t9", "c-1"))
    )
    assert unknown.code == 3 and "no task case-x/1/t9" in unknown.err


def test_a_field_visit_report_names_both_collectors() -> None:
    assert task_actions.visit_report("c-1, c-2", True) == FieldVisitReport(("c-1", "c-2"), True)
    assert task_actions.visit_report(None, False) is None
    with pytest.raises(typer.BadParameter):
        task_actions.visit_report(None, True)


async def risk_handoff(cli: Cli, account: str) -> str:
    document = await until(
        cli,
        lambda env: inbox.list_inbox(env, Department.RISK, status="open"),
        lambda d: any(h["case_id"] == f"case-{account}" for h in d["handoffs"]),
    )
    [key] = [h["key"] for h in document["handoffs"] if h["case_id"] == f"case-{account}"]
    return str(key)


async def test_the_risk_inbox_shows_a_hardship_review_and_takes_a_decision(
    departments: CaseHarness,
) -> None:
    cli = cli_for(departments)
    account = await started(departments, dpd=3)
    hardship = ReasonInput(reason="lost job; call +8613812345678")
    ran = await cli(lambda env: case_cli.act(env, account, Case.report_hardship, hardship))
    assert ran.code == 0

    key = await risk_handoff(cli, account)
    listed = await cli(lambda env: inbox.list_inbox(env, Department.RISK))
    assert f"{key}\tcase-{account}\topen" in listed.out
    assert "+86*******5678" in listed.out and "+8613812345678" not in listed.out
    shown = await cli(lambda env: inbox.show_handoff(env, key))
    assert "review\topen, 0 escalation(s)" in shown.out
    summary = await cli(lambda env: inbox.show_dossier(env, key))
    assert f"account no\t{account}" in summary.out and MOBILE not in summary.out

    today = await departments.today()

    def decide(**fields: Any) -> Callable[..., Awaitable[int]]:
        decision = RiskDecision(decided_by="risk-1", reason="temporary", **fields)
        return lambda env: inbox.decide_review(env, key, decision)

    refused = await cli(decide(kind=RiskDecisionKind.FORBEARANCE))
    assert refused.code == 1 and "refused: a forbearance needs forbearance_until" in refused.err
    plan = (Instalment(today + timedelta(days=5), 1),)
    refused = await cli(decide(kind=RiskDecisionKind.PAYMENT_PLAN, instalments=plan))
    assert refused.code == 1 and "less than the overdue" in refused.err

    until_day = today + timedelta(days=30)
    ran = await cli(decide(kind=RiskDecisionKind.FORBEARANCE, forbearance_until=until_day))
    assert ran.code == 0
    assert ran.out.strip() == f"decided: forbearance by risk-1: temporary; until {until_day}"
    await departments.client.get_workflow_handle(key).result()
    again = await cli(decide(kind=RiskDecisionKind.PROCEED))
    assert again.code == 4 and f"the risk review {key} has finished (completed)" in again.err

    status = await cli(lambda env: case_cli.show_status(env, account), json_output=True)
    assert status.json()["status"]["risk_review"] is None
    wrong = await cli(lambda env: inbox.accept_referral(env, key, AcceptReferralInput(by="x")))
    assert wrong.code == 3 and f"no legal referral {key}: it is a risk handoff" in wrong.err


def test_instalments_are_date_and_amount() -> None:
    [first] = inbox.parse_instalments(["2026-12-10:30000"])
    assert (first.due_date.isoformat(), first.amount_minor) == ("2026-12-10", 30_000)
    with pytest.raises(typer.BadParameter):
        inbox.parse_instalments(["2026-12-10=30000"])


async def test_the_legal_inbox_takes_a_referral_from_acceptance_to_settlement(
    departments: CaseHarness,
) -> None:
    cli = cli_for(departments)
    handle = await legal_ready_case(departments)
    account = handle.id.removeprefix("case-")
    approvals = await until(
        cli,
        lambda env: tasks.list_tasks(
            env, queue=Queue.SUPERVISOR, status=TaskStatus.OPEN, case=account
        ),
        lambda d: any(t["kind"] == TaskKind.SUPERVISOR_APPROVAL for t in d["tasks"]),
    )
    [approval] = [t for t in approvals["tasks"] if t["kind"] == TaskKind.SUPERVISOR_APPROVAL]
    approve = CompleteTaskInput(approval["task_key"], "supervisor-1", TaskOutcome.APPROVED)
    asked = await cli(lambda env: task_actions.complete_task(env, approve), json_output=True)
    assert asked.code == 0 and "needs a second person" in asked.json()["message"]
    # A legal referral is approved by two supervisors: the second confirms the first's.
    await add_person(departments.db, "supervisor-2", ["supervisor"])
    second = dataclasses.replace(settings_for(departments.queue), cli_actor="supervisor-2")
    checker = Cli(departments.client, departments.db, second)
    request = asked.json()["approval_id"]
    ran = await checker(lambda env: approvals_cli.approve_request(env, request))
    assert ran.code == 0 and "referred to the legal department" in ran.out

    document = await until(
        cli,
        lambda env: inbox.list_inbox(env, Department.LEGAL),
        lambda d: any(h["case_id"] == handle.id for h in d["handoffs"]),
    )
    [key] = [h["key"] for h in document["handoffs"] if h["case_id"] == handle.id]
    dossier = await until(cli, lambda env: inbox.show_dossier(env, key), lambda d: "dossier" in d)
    assert dossier["dossier"]["format"] == 1
    text = await cli(lambda env: inbox.show_dossier(env, key))
    assert text.out.startswith("LEGAL REFERRAL DOSSIER\n")
    assert (
        f"Account:      {account}" in text.out
        and "Approved by:  supervisor-1 and supervisor-2" in text.out
    )
    assert "+86" not in text.out and "张伟" not in text.out

    today = await departments.today()

    def proceed(kind: ProceedingKind, **fields: Any) -> Callable[..., Awaitable[int]]:
        req = ProceedingInput(kind=kind, on=today, by="counsel-1", **fields)
        return lambda env: inbox.record_proceeding(env, key, req)

    early = await cli(proceed(ProceedingKind.FILED))
    assert early.code == 1 and "refused: the referral is not accepted yet" in early.err
    accepted = await cli(
        lambda env: inbox.accept_referral(env, key, AcceptReferralInput("counsel-1"))
    )
    assert accepted.code == 0 and accepted.out.startswith(f"{key}: accepted; accepted by counsel-1")
    out_of_order = await cli(proceed(ProceedingKind.ENFORCEMENT))
    assert out_of_order.code == 1 and "comes after the judgment" in out_of_order.err
    filed = await cli(proceed(ProceedingKind.FILED), json_output=True)
    assert filed.code == 0 and filed.json()["referral"]["proceedings"][0]["kind"] == "filed"
    allow = ContactPermissionInput(allowed=True, by="counsel-1", reason="negotiating")
    ran = await cli(lambda env: inbox.set_contact_permission(env, key, allow))
    assert ran.code == 0 and "contact allowed" in ran.out

    shown = await cli(lambda env: inbox.show_handoff(env, key))
    assert "accepted by\tcounsel-1" in shown.out and "proceeding filed\ton " in shown.out

    settled: Ran = await cli(proceed(ProceedingKind.SETTLED, amount_minor=300_000, note="agreed"))
    assert settled.code == 0 and f"{key}: closed" in settled.out
    assert (await handle.result()).closed_reason is ClosureReason.SETTLED
    await departments.client.get_workflow_handle(key).result()
    late = await cli(lambda env: inbox.accept_referral(env, key, AcceptReferralInput("counsel-2")))
    assert late.code == 4 and f"the legal referral {key} has finished (completed)" in late.err


runner = CliRunner()


def test_inbox_and_tasks_usage_errors_exit_2() -> None:
    result = runner.invoke(app, ["inbox", "list", "--department", "finance"])
    assert result.exit_code == 2
    result = runner.invoke(
        app, ["inbox", "decide", "risk-1-1", "--kind", "proceed", "--by", "x", "--reason", "y",
              "--instalment", "soon"],
    )  # fmt: skip
    assert result.exit_code == 2 and "is not DATE:AMOUNT_MINOR" in result.output
    result = runner.invoke(app, ["tasks", "complete", "k", "--collector", "c", "--outcome", "meh"])
    assert result.exit_code == 2
