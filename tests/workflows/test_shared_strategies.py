"""A worker holds one copy of each strategy however many cached cases follow it (about 7 KiB of
Python objects each for the default policy; issue 16's memory per cached case): an assessment's
strategy is shared where the data converter decodes it, in a case's input as in its markers."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from temporalio.testing import WorkflowEnvironment

from config.strategy import load_strategy
from models import shared_strategies
from models.contracts import Account, Assessment, CaseInput, CaseState, ContactPoints
from models.shared_strategies import shared
from models.strategy import Segment, Strategy
from readmodel.engine import Database
from temporal.client import data_converter
from tests.fakes.twilio_api import FakeTwilio
from tests.workflows import harness as case_harness
from tests.workflows.harness import CaseHarness, case_worker, twilio_sender
from workflows.case import CollectionCaseWorkflow as Case

DEFAULT = Path("config/policies/default.toml")
T = TypeVar("T")


def decoded(value: T, hint: type[Any]) -> T:
    """`value` as a case gets it back from its history: a copy of its own."""
    converter = data_converter().payload_converter
    [copy] = converter.from_payloads(converter.to_payloads([value]), [hint])
    assert copy == value and copy is not value
    return copy  # type: ignore[no-any-return]


def a_case(strategy: Strategy) -> CaseInput:
    assessment = Assessment(strategy=strategy, score=40, segment=Segment.HIGH, lines=())
    carried = CaseState(
        started_at=datetime(2026, 3, 1, tzinfo=UTC), initial_dpd=5, assessment=assessment
    )
    return CaseInput(
        customer_ref="CUST000001",
        contact=ContactPoints(mobile="+8613800000001"),
        account=Account("6222000000000001", "card", "CNY", 500_000, 120_000, date(2026, 2, 24)),
        assessment=assessment,
        carried=carried,
    )


@pytest.fixture(autouse=True)
def nothing_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared_strategies, "_kept", [])


def test_equal_strategies_share_one_copy_and_a_changed_one_keeps_its_own() -> None:
    strategy = load_strategy(DEFAULT)
    first, second = decoded(strategy, Strategy), decoded(strategy, Strategy)
    edited = dataclasses.replace(first, task_deadline_days=9)  # same name, version

    assert shared(first) is first
    assert shared(second) is first
    assert shared(edited) is edited
    assert shared(dataclasses.replace(second, task_deadline_days=9)) is edited


def test_a_decoded_input_holds_the_shared_strategy_in_its_assessment_and_carried_state() -> None:
    strategy = load_strategy(DEFAULT)
    shared(strategy)

    case = decoded(a_case(strategy), CaseInput)
    other = decoded(a_case(strategy), CaseInput)

    assert case.assessment is not None and case.carried is not None
    assert case.assessment.strategy is strategy
    assert case.carried.assessment.strategy is strategy
    assert other.assessment is not None and other.assessment.strategy is strategy
    assert (case.assessment.score, case.assessment.segment) == (40, Segment.HIGH)


def test_past_the_bound_a_strategy_is_used_as_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared_strategies, "MAX_KEPT", 1)
    strategy = load_strategy(DEFAULT)
    other = dataclasses.replace(strategy, name="other")
    shared(strategy)

    assert shared(other) is other
    assert decoded(other, Strategy) is not other
    assert len(shared_strategies._kept) == 1


async def test_cases_on_an_unsandboxed_worker_hold_one_copy_per_policy(
    ts_env: WorkflowEnvironment, task_queue: str, fake_twilio: FakeTwilio, sqlite_db: Database
) -> None:
    # The worker as production runs it: workflow code unsandboxed, this module its own. Two
    # cases assess themselves (an older starter's), three come assessed as intake starts them.
    settings = dataclasses.replace(case_harness.test_settings(task_queue), workflow_sandbox=False)
    sender = twilio_sender(fake_twilio)
    try:
        async with case_worker(ts_env, task_queue, sqlite_db, sender, settings=settings):
            harness = CaseHarness(env=ts_env, queue=task_queue, fake=fake_twilio, db=sqlite_db)
            handles = [await harness.start() for _ in range(2)]
            handles += [await harness.start(assessed=False, release="") for _ in range(2)]
            handles.append(await harness.start(strategy="demo"))
            await harness.sleep_days(0.1)
            segments = [(await handle.query(Case.status)).segment for handle in handles]
    finally:
        await sender.aclose()

    assert all(segments)  # every case was assessed
    assert sorted(s.name for s in shared_strategies._kept) == sorted(
        {load_strategy(DEFAULT).name, load_strategy(Path("config/policies/demo.toml")).name}
    )
