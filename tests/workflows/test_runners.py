"""Where workflow code runs: unsandboxed on a worker (the sandbox passed our modules through, so
it checked nothing of ours and cost a third of a replay's CPU), and in the SDK's sandbox, our
modules imported afresh for each run under its restrictions, wherever the tests run workflows
and wherever histories are replayed (workers/runners.py, docs/decisions/0011)."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner

with workflow.unsafe.imports_passed_through():
    from config.settings import Settings, load_settings
    from workers.runners import CHECKED, RUNNER, runner_for
from workflows import case_rules  # not passed through: the sandbox imports its own


@workflow.defn
class WhichRules:
    """Answers whether the case's rules module it sees is the worker's own, imported once."""

    @workflow.run
    async def run(self, workers_own: int) -> bool:
        return id(case_rules) == workers_own


def test_a_worker_runs_workflows_unsandboxed_unless_told_to_sandbox_them() -> None:
    def settings(**environ: str) -> Settings:
        return load_settings(environ=environ, env_file=Path("/nonexistent"))

    assert isinstance(RUNNER, UnsandboxedWorkflowRunner)
    assert runner_for(settings()) is RUNNER
    assert runner_for(settings(WORKFLOW_SANDBOX="on")) is CHECKED


@pytest.mark.parametrize(("runner", "shared"), [(RUNNER, True), (CHECKED, False)])
async def test_the_checked_sandbox_imports_the_workflow_code_afresh_for_each_run(
    ts_env: WorkflowEnvironment, task_queue: str, runner: WorkflowRunner, shared: bool
) -> None:
    async with Worker(
        ts_env.client, task_queue=task_queue, workflows=[WhichRules], workflow_runner=runner
    ):
        seen = await ts_env.client.execute_workflow(
            WhichRules.run, id(case_rules), id=f"which-{shared}", task_queue=task_queue
        )
    assert seen is shared
