"""`collections tasks <action>`: a command for every task action of the catalogue, made from
its input where nobody wrote one, and a task assigned from the command line."""

from __future__ import annotations

from typing import Any

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from cli import task_actions, tasks
from cli.main import app
from cli.task_actions import generated_command
from models.tasks import TaskStatus
from operations.catalogue import TASK_ACTIONS
from tests.cli.test_case_cli import Cli, cli_for, started
from tests.cli.test_tasks_inbox_cli import until
from tests.staffing import add_person
from tests.workflows import harness as workflow_harness
from tests.workflows.harness import CaseHarness

fake_twilio = workflow_harness.fake_twilio
harness = workflow_harness.harness
sqlite_db = workflow_harness.sqlite_db


def test_every_task_action_is_a_command_in_the_catalogues_order() -> None:
    group = typer.main.get_group(app).commands["tasks"]
    assert isinstance(group, typer.core.TyperGroup)
    names = group.list_commands(typer.Context(group))
    assert names == ["list", *TASK_ACTIONS, "allocate", "reassign"]


def test_an_input_no_flag_carries_needs_its_command_written() -> None:
    with pytest.raises(RuntimeError, match="tasks book-visit: no flag for day"):
        generated_command(TASK_ACTIONS["book-visit"])


async def open_call(cli: Cli, harness: CaseHarness) -> str:
    """The key of a new case's open collector call."""
    account = await started(harness, dpd=40)  # in the collector stage: a call is due
    listed = await until(
        cli,
        lambda env: tasks.list_tasks(env, status=TaskStatus.OPEN, case=account),
        lambda d: d["tasks"],
    )
    [task] = listed["tasks"]
    return str(task["task_key"])


async def test_a_command_made_from_the_input_takes_the_action(harness: CaseHarness) -> None:
    cli = cli_for(harness)
    key = await open_call(cli, harness)
    launched: list[tuple[Any, bool]] = []
    made = typer.Typer()
    claim = generated_command(
        TASK_ACTIONS["claim"], run=lambda core, json_output: launched.append((core, json_output))
    )
    made.command("claim")(claim)
    made.command("unused")(lambda: None)  # a group: the command is named on the line

    runner = CliRunner()
    helped = runner.invoke(made, ["claim", "--help"], env={"COLUMNS": "120"})
    assert helped.exit_code == 0 and "TASK_KEY" in helped.output and "--collector" in helped.output
    assert runner.invoke(made, ["claim", key]).exit_code == 2  # --collector is required
    assert runner.invoke(made, ["claim", key, "--collector", "c-1", "--json"]).exit_code == 0

    [(core, json_output)] = launched
    ran = await cli(core, json_output=json_output)
    assert ran.code == 0, ran.err
    assert ran.json()["action"] == "claim_task"
    assert ran.json()["message"] == "task claimed by c-1"


async def test_a_task_is_assigned_to_an_active_collector_only(harness: CaseHarness) -> None:
    cli = cli_for(harness)
    await add_person(harness.db, "c.amy", ["collector"])
    await add_person(harness.db, "r.rui", ["risk"])
    key = await open_call(cli, harness)

    nobody = await cli(lambda env: task_actions.assign_task(env, key, "no.such", ""))
    assert (nobody.code, nobody.err.strip()) == (
        1,
        "refused: no person 'no.such' in the staff directory",
    )
    unfit = await cli(lambda env: task_actions.assign_task(env, key, "r.rui", ""))
    assert "r.rui does not hold a role that works the operations queue" in unfit.err
    unknown = await cli(lambda env: task_actions.assign_task(env, "case-x/1/t9", "c.amy", ""))
    assert (unknown.code, unknown.err.strip()) == (3, "no task case-x/1/t9")

    done = await cli(lambda env: task_actions.assign_task(env, key, " c.amy ", "zh"))
    assert (done.code, done.out.strip()) == (0, "task assigned to c.amy")
