"""Replay: cases recorded now and the histories kept in `tests/histories/` replay against the
current workflow code, and a change to the order of the workflow's commands is caught."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

from temporalio import workflow

# The sandbox imports this module to find `SleepsFirst`: everything else passes through.
with workflow.unsafe.imports_passed_through():
    from models.case_status import CaseStatus
    from models.contracts import CaseInput
    from temporal.codec import ENCODING
    from temporal.history_files import write_history
    from tests.histories.record import promise_pause_payment
    from tests.workflows.harness import CaseHarness
    from workers.replay import ReplayOutcome, replay_histories
    from workflows.case import CollectionCaseWorkflow


@workflow.defn(name="CollectionCase")
class SleepsFirst(CollectionCaseWorkflow):
    """The case as a careless change would leave it: a timer before the assessment."""

    @workflow.run
    async def run(self, input: CaseInput) -> CaseStatus:
        await workflow.sleep(timedelta(minutes=5))
        return await super().run(input)


def recorded_histories() -> list[Path]:
    return sorted((Path(__file__).parent.parent / "histories").rglob("*.json"))


async def test_a_case_run_now_replays_and_a_reordered_workflow_does_not(
    harness: CaseHarness, tmp_path: Path
) -> None:
    # Promise, payments, a pause and a resume, days of reminders, closed as paid.
    [(_, history)] = await promise_pause_payment(harness)
    path = tmp_path / "case.json"
    write_history(history, path)

    [clean] = await replay_histories([path])
    assert clean.outcome is ReplayOutcome.OK, clean.error
    assert clean.workflow_id == history.workflow_id and clean.events == len(history.events)

    [changed] = await replay_histories([path], workflows=[SleepsFirst])
    assert changed.outcome is ReplayOutcome.NONDETERMINISTIC
    assert "Nondeterminism" in changed.error


async def test_every_recorded_history_replays_against_the_current_code() -> None:
    files = recorded_histories()
    assert len(files) >= 3, "tests/histories/ lost its recordings"
    reports = await replay_histories(files)
    broken = [f"{r.path.name}: {r.outcome}: {r.error}" for r in reports if not r.ok]
    assert not broken, (
        "recorded cases no longer replay; guard the change with workflow.patched:\n"
        + "\n".join(broken)
    )


def test_the_recorded_histories_need_no_key() -> None:
    encrypted = base64.b64encode(ENCODING).decode()  # payload metadata is base64 in the JSON
    for path in recorded_histories():
        assert encrypted not in path.read_text(encoding="utf-8"), path.name
