"""A case action nobody wrote a command for gets one made from its input: adding an action to
the catalogue needs no command of its own when a flag carries each of its fields."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from cli.case_actions import generated_command
from operations.catalogue import CASE_ACTIONS
from tests.cli.test_case_cli import cli_for, started
from tests.workflows import harness as workflow_harness
from tests.workflows.harness import CaseHarness

fake_twilio = workflow_harness.fake_twilio
harness = workflow_harness.harness
sqlite_db = workflow_harness.sqlite_db


def test_an_input_no_flag_carries_needs_its_command_written() -> None:
    with pytest.raises(RuntimeError, match="case promise-to-pay: no flag for promised_date"):
        generated_command(CASE_ACTIONS["promise_to_pay"])


async def test_a_case_command_made_from_the_input_takes_the_action(harness: CaseHarness) -> None:
    cli = cli_for(harness)
    account = await started(harness)
    launched: list[tuple[Any, bool]] = []
    made = typer.Typer()
    pause = generated_command(
        CASE_ACTIONS["pause"], run=lambda core, json_output: launched.append((core, json_output))
    )
    made.command("pause")(pause)
    made.command("unused")(lambda: None)  # a group: the command is named on the line

    runner = CliRunner()
    helped = runner.invoke(made, ["pause", "--help"], env={"COLUMNS": "120"})
    assert helped.exit_code == 0 and "ACCOUNT" in helped.output and "--reason" in helped.output
    assert runner.invoke(made, ["pause", account]).exit_code == 2  # --reason is required
    assert runner.invoke(made, ["pause", account, "--reason", "asked", "--json"]).exit_code == 0

    [(core, json_output)] = launched
    ran = await cli(core, json_output=json_output)
    assert ran.code == 0, ran.err
    assert ran.json()["message"] == "case paused; nothing goes out until it is resumed"
