"""How workflow code runs on a worker, and where the SDK's sandbox checks it.

A worker runs the workflows unsandboxed (`RUNNER`). The sandbox it ran them in before passed
the `workflows` and `models` modules through (imported once, as they must be for a worker to
start cases at any rate: BENCHMARKS.md, item 9), so its restrictions never applied to our own
code; all that remained of it was its cost on every activation, about a third of the CPU of a
replay (docs/decisions/0011). What keeps workflow code deterministic instead:
- ruff's banned-api for `workflows/` (pyproject.toml): no clock, randomness, environment,
  threads or I/O but through `workflow`;
- `CHECKED`, the SDK's sandbox with our workflow modules *not* passed through, so they are
  imported afresh for every run under its restrictions: every workflow the tests run on the
  time-skipping server runs in it (`workflow_sandbox` in their settings), and every replay
  (`collections history replay`, the recorded histories) uses it;
- `WORKFLOW_SANDBOX=on` puts a worker itself back in it, at that cost.
"""

from __future__ import annotations

from temporalio.worker import UnsandboxedWorkflowRunner, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from config.settings import Settings

RUNNER: WorkflowRunner = UnsandboxedWorkflowRunner()
# The contracts (plain frozen data), pydantic and phonenumbers are still imported once: they
# hold no state a run could change, and re-importing pydantic per run would take seconds.
CHECKED: WorkflowRunner = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "models", "phonenumbers", "pydantic"
    )
)


def runner_for(settings: Settings) -> WorkflowRunner:
    return CHECKED if settings.workflow_sandbox else RUNNER
