"""`assess_case`: the strategy is parsed once per policy file, and again when the file changes."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from temporalio.testing import ActivityEnvironment

from activities.assessment import AssessmentActivities
from config.settings import POLICY_DIR
from models.contracts import Account, AssessInput

ACCOUNT = Account(
    account_no="6222000011112222",
    product="card",
    currency="CNY",
    outstanding_minor=500_000,
    overdue_minor=120_000,
    oldest_due_date=date(2026, 1, 1),
)


async def test_a_policy_is_parsed_once_and_again_when_it_changes(tmp_path: Path) -> None:
    policy = tmp_path / "bank.toml"
    shutil.copy(POLICY_DIR / "default.toml", policy)
    activities = AssessmentActivities(policy)
    env = ActivityEnvironment()
    ask = AssessInput(account=ACCOUNT, strategy_version="", as_of=date(2026, 2, 1))

    first = await env.run(activities.assess_case, ask)
    second = await env.run(activities.assess_case, ask)
    assert second.strategy is first.strategy  # the cached parse, not a second read
    assert first.segment == second.segment and first.score == second.score

    text = policy.read_text()
    old = next(line for line in text.splitlines() if line.startswith("version"))
    policy.write_text(text.replace(old, 'version = "2099.1-edited"', 1))
    changed = await env.run(activities.assess_case, ask)
    assert changed.strategy.version == "2099.1-edited"
    assert first.strategy.version != "2099.1-edited"
