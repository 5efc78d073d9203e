"""A worker holds one copy of each strategy however many cached cases follow it (about 7 KiB of
Python objects each for the default policy; issue 16's memory per cached case)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from config.strategy import load_strategy
from models.contracts import Assessment, CaseState
from models.strategy import Segment, Strategy
from readmodel.engine import Database
from temporal.client import data_converter
from tests.fakes.twilio_api import FakeTwilio
from tests.workflows import harness as case_harness
from tests.workflows.harness import CaseHarness, case_worker, twilio_sender
from workflows import shared_strategies
from workflows.case import CollectionCaseWorkflow as Case
from workflows.shared_strategies import shared, sharing, sharing_state

DEFAULT = Path("config/policies/default.toml")


def decoded(strategy: Strategy) -> Strategy:
    """The strategy as a case gets it back from its history: a copy of its own."""
    converter = data_converter().payload_converter
    [copy] = converter.from_payloads(converter.to_payloads([strategy]), [Strategy])
    assert copy == strategy and copy is not strategy
    return copy


@pytest.fixture(autouse=True)
def nothing_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared_strategies, "_kept", [])


def test_equal_strategies_share_one_copy_and_a_changed_one_keeps_its_own() -> None:
    strategy = load_strategy(DEFAULT)
    first, second = decoded(strategy), decoded(strategy)
    edited = dataclasses.replace(decoded(strategy), task_deadline_days=9)  # same name, version

    assert shared(first) is first
    assert shared(second) is first
    assert shared(edited) is edited
    assert shared(decoded(edited)) is edited


def test_an_assessment_keeps_its_score_and_segment_with_the_shared_strategy() -> None:
    strategy = load_strategy(DEFAULT)
    shared(strategy)
    assessment = Assessment(strategy=decoded(strategy), score=40, segment=Segment.HIGH, lines=())

    kept = sharing(assessment)

    assert kept.strategy is strategy
    assert (kept.score, kept.segment) == (40, Segment.HIGH)


def test_a_state_carried_across_continue_as_new_holds_the_shared_strategy() -> None:
    strategy = load_strategy(DEFAULT)
    shared(strategy)
    assessment = Assessment(strategy=decoded(strategy), score=0, segment=Segment.LOW, lines=())
    carried = CaseState(
        started_at=datetime(2026, 3, 1, tzinfo=UTC), initial_dpd=5, assessment=assessment
    )

    kept = sharing_state(carried)

    assert kept is not None and kept.assessment.strategy is strategy
    assert dataclasses.replace(kept, assessment=assessment) == carried
    assert sharing_state(None) is None


def test_past_the_bound_a_strategy_is_used_as_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared_strategies, "MAX_KEPT", 1)
    strategy = load_strategy(DEFAULT)
    other = dataclasses.replace(strategy, name="other")
    shared(strategy)

    assert shared(other) is other
    assert shared(decoded(other)) is not other
    assert len(shared_strategies._kept) == 1


async def test_cases_on_an_unsandboxed_worker_hold_one_copy_per_policy(
    ts_env: WorkflowEnvironment, task_queue: str, fake_twilio: FakeTwilio, sqlite_db: Database
) -> None:
    # The worker as production runs it: workflow code unsandboxed, this module its own.
    settings = dataclasses.replace(case_harness.test_settings(task_queue), workflow_sandbox=False)
    sender = twilio_sender(fake_twilio)
    try:
        async with case_worker(ts_env, task_queue, sqlite_db, sender, settings=settings):
            harness = CaseHarness(env=ts_env, queue=task_queue, fake=fake_twilio, db=sqlite_db)
            handles = [await harness.start() for _ in range(3)]
            handles.append(await harness.start(strategy="demo"))
            await harness.sleep_days(0.1)
            segments = [(await handle.query(Case.status)).segment for handle in handles]
    finally:
        await sender.aclose()

    assert all(segments)  # every case was assessed
    assert sorted(s.name for s in shared_strategies._kept) == sorted(
        {load_strategy(DEFAULT).name, load_strategy(Path("config/policies/demo.toml")).name}
    )
