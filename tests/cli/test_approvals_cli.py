"""`collections approvals`, and the case actions that wait for one: a write-off or a dispute
resolved for the customer asked through `collections case` becomes a request, which another
supervisor of the directory approves (the case then acts under both names) or rejects. Driven
through the commands' async cores against the real case workflow on the time-skipping server,
each command as the actor COLLECTIONS_ACTOR would name."""

from __future__ import annotations

import dataclasses
from typing import Any

from typer.testing import CliRunner

from cli import approvals as approvals_cli
from cli import case as case_cli
from cli import task_actions, tasks
from cli.main import app
from models.contracts import CloseInput, ClosureReason, ReasonInput, ResolveDisputeInput
from models.tasks import CompleteTaskInput, TaskKind, TaskOutcome, TaskStatus
from operations import approvals
from tests.cli.test_case_cli import Cli, started
from tests.cli.test_tasks_inbox_cli import until
from tests.staffing import add_person
from tests.workflows import harness as workflow_harness
from tests.workflows.harness import CaseHarness
from tests.workflows.harness import test_settings as settings_for
from tests.workflows.test_case_departments import legal_ready_case
from workflows.case import CollectionCaseWorkflow as Case

fake_twilio = workflow_harness.fake_twilio
harness = workflow_harness.harness
sqlite_db = workflow_harness.sqlite_db
departments = workflow_harness.departments

MAKER, CHECKER, COLLECTOR = "sup.sam", "sup.sue", "ops.ann"


async def staffed(harness: CaseHarness) -> None:
    for person_id, roles in ((MAKER, ["supervisor"]), (CHECKER, ["supervisor"])):
        await add_person(harness.db, person_id, roles)
    await add_person(harness.db, COLLECTOR, ["collector"])


def as_(harness: CaseHarness, actor: str) -> Cli:
    """The command line run with COLLECTIONS_ACTOR set to `actor`."""
    settings = dataclasses.replace(settings_for(harness.queue), cli_actor=actor)
    return Cli(harness.client, harness.db, settings)


async def status(harness: CaseHarness, account: str) -> Any:
    ran = await as_(harness, MAKER)(
        lambda env: case_cli.show_status(env, account), json_output=True
    )
    return ran.json()["status"]


async def test_a_write_off_waits_for_another_supervisor_and_then_names_both(
    harness: CaseHarness,
) -> None:
    await staffed(harness)
    account = await started(harness)
    write_off = CloseInput(reason=ClosureReason.WRITTEN_OFF, note="uneconomic, +8613912345678")

    asked = await as_(harness, MAKER)(
        lambda env: case_cli.act(env, account, Case.close, write_off), json_output=True
    )

    assert asked.code == 0, asked.err
    request = asked.json()["approval_id"]
    assert asked.json() == {
        "case_id": f"case-{account}",
        "action": "close",
        "approval_id": request,
        "message": f"writing off a case needs a second person: request {request} waits for "
        "their approval",
        "exit_code": 0,
    }
    assert (await status(harness, account))["stage"] != "closed"

    listed = await as_(harness, COLLECTOR)(approvals_cli.list_pending)
    header, row = listed.out.splitlines()
    assert header == "id\tcase\taction\tneeds\tasked by\tasked at\tinput"
    assert row.startswith(f"{request}\tcase-{account}\tclose\twriting off a case\tsup.sam (cli)\t")
    assert row.endswith("\treason=written_off, note=uneconomic, +86*******5678")
    listed = await as_(harness, COLLECTOR)(approvals_cli.list_pending, json_output=True)
    [shown] = listed.json()["approvals"]
    assert (shown["approval_id"], shown["requested_by"], shown["status"]) == (
        request,
        MAKER,
        "pending",
    )

    def approve(actor: str, approval_id: int = request) -> Any:
        return as_(harness, actor)(lambda env: approvals_cli.approve_request(env, approval_id))

    own = await approve(MAKER)
    assert own.code == 1
    assert (
        "refused: writing off a case needs a second person: sup.sam cannot approve their own "
        "request" in own.err
    )
    collector = await approve(COLLECTOR)
    assert collector.code == 1 and "needs the role supervisor, and ops.ann has operations" in (
        collector.err
    )
    stranger = await approve("host.login")
    assert stranger.code == 1
    assert "host.login is no active member of the staff directory" in stranger.err
    assert (await status(harness, account))["stage"] != "closed"

    approved = await approve(CHECKER)

    assert approved.code == 0, approved.err
    assert approved.out.strip() == (
        f"request {request} approved by sup.sue: case closed as written_off (stage closed)"
    )
    assert (await status(harness, account))["closed_reason"] == "written_off"
    timeline = await as_(harness, MAKER)(
        lambda env: case_cli.show_timeline(env, account), json_output=True
    )
    [closing] = [e for e in timeline.json()["events"] if "written_off" in e["detail"]]
    assert closing["by"] == "sup.sam (cli), approved by sup.sue"
    decided = await approvals.get(harness.db, request)
    assert decided is not None and (decided.status, decided.decided_by) == ("approved", CHECKER)

    again = await approve(CHECKER)
    assert again.code == 4 and f"request {request} is already approved" in again.err
    unknown = await approve(CHECKER, 9999)
    assert unknown.code == 3 and "no approval request 9999" in unknown.err


async def test_a_rejected_request_leaves_the_case_as_it_was(harness: CaseHarness) -> None:
    await staffed(harness)
    account = await started(harness)
    maker = as_(harness, MAKER)
    disputed = await maker(
        lambda env: case_cli.act(env, account, Case.raise_dispute, ReasonInput("not my card"))
    )
    assert disputed.code == 0, disputed.err
    upheld = ResolveDisputeInput(upheld=True, reason="card was stolen")

    asked = await maker(lambda env: case_cli.act(env, account, Case.resolve_dispute, upheld))

    assert asked.code == 0, asked.err
    [request] = [r.id for r in await approvals.pending(harness.db)]
    assert asked.out.strip() == (
        f"resolving a dispute for the customer needs a second person: request {request} waits "
        f"for their approval (collections approvals approve {request})"
    )

    assert request is not None

    def reject(reason: str, approval_id: int = request) -> Any:
        return as_(harness, CHECKER)(
            lambda env: approvals_cli.reject_request(env, approval_id, reason)
        )

    blank = await reject(" ")
    assert blank.code == 1 and "say why the request is rejected (reason)" in blank.err
    own = await maker(lambda env: approvals_cli.reject_request(env, request, "changed my mind"))
    assert own.code == 1 and "cannot approve their own request" in own.err

    rejected = await reject("no police report yet")

    assert rejected.code == 0, rejected.err
    assert rejected.out.strip() == (
        f"request {request} rejected by sup.sue; nothing was sent to the case"
    )
    row = await approvals.get(harness.db, request)
    assert row is not None and (row.status, row.result) == ("rejected", "no police report yet")
    case = await status(harness, account)
    assert case["stage"] != "closed" and case["dispute_open"] is True
    listed = await as_(harness, CHECKER)(approvals_cli.list_pending)
    assert listed.out.strip() == "no request waits for a second person"

    again = await reject("twice", request)
    assert again.code == 4 and f"request {request} is already rejected" in again.err
    unknown = await reject("x", 777)
    assert unknown.code == 3 and "no approval request 777" in unknown.err


async def test_a_referral_approved_on_its_task_waits_for_a_second_supervisor(
    departments: CaseHarness,
) -> None:
    await staffed(departments)
    handle = await legal_ready_case(departments)
    account = handle.id.removeprefix("case-")
    maker = as_(departments, MAKER)
    listed = await until(
        maker,
        lambda env: tasks.list_tasks(env, status=TaskStatus.OPEN, case=account),
        lambda d: any(t["kind"] == TaskKind.SUPERVISOR_APPROVAL for t in d["tasks"]),
    )
    [key] = [t["task_key"] for t in listed["tasks"] if t["kind"] == TaskKind.SUPERVISOR_APPROVAL]
    approve = CompleteTaskInput(key, MAKER, TaskOutcome.APPROVED, note="all evidence in")

    asked = await maker(lambda env: task_actions.complete_task(env, approve), json_output=True)

    assert asked.code == 0, asked.err
    assert "approving a legal referral needs a second person" in asked.json()["message"]
    assert (await status(departments, account))["stage"] != "legal"
    request = asked.json()["approval_id"]
    approved = await as_(departments, CHECKER)(
        lambda env: approvals_cli.approve_request(env, request), json_output=True
    )
    assert approved.code == 0, approved.err
    document = approved.json()
    assert (document["approved_by"], document["accepted"]) == (CHECKER, True)
    assert "referred to the legal department" in document["message"]
    assert (await status(departments, account))["stage"] == "legal"


def test_an_id_that_is_not_a_number_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["approvals", "approve", "seven"])
    assert result.exit_code == 2
    result = CliRunner().invoke(app, ["approvals", "reject", "7"])
    assert result.exit_code == 2 and "--reason" in result.output
