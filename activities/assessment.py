"""Assessment: load the case's strategy and score the account with its scorecard.

The result is recorded in the case's history, so a case keeps the strategy it started with even
when the policy file changes later.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from config.settings import TaskQueues
from config.strategy import PolicyError, load_strategy, policy_path
from models.contracts import Account, AssessInput, Assessment, ScoreLine
from models.strategy import ScoreFactor, Segment, Strategy


def score_values(account: Account, days_past_due: int) -> dict[str, int]:
    overdue_percent = (
        account.overdue_minor * 100 // account.outstanding_minor if account.outstanding_minor else 0
    )
    return {
        "days_past_due": days_past_due,
        "overdue_minor": account.overdue_minor,
        "outstanding_minor": account.outstanding_minor,
        "overdue_percent": overdue_percent,
    }


def _applies(factor: ScoreFactor, value: int) -> bool:
    return (factor.low is None or value >= factor.low) and (
        factor.high is None or value <= factor.high
    )


def assess(account: Account, strategy: Strategy, days_past_due: int) -> Assessment:
    """Adds up the points of every factor that applies; the lines explain the score."""
    values = score_values(account, days_past_due)
    lines = tuple(
        ScoreLine(factor=f.name, points=f.points)
        for f in strategy.scorecard
        if _applies(f, values[f.field])
    )
    score = sum(line.points for line in lines)
    reached = [band for band in strategy.segments if score >= band.min_score]
    segment = max(reached, key=lambda band: band.min_score).segment if reached else Segment.LOW
    return Assessment(strategy=strategy, score=score, segment=segment, lines=lines)


class AssessmentActivities:
    def __init__(self, default_policy: Path, queues: TaskQueues | None = None) -> None:
        self._default_policy = default_policy
        self._queues = queues or TaskQueues()
        # Parsed strategies by file, with the file's (mtime, size) when parsed: a day's intake
        # parses each policy once, and an edited file is read again.
        self._strategies: dict[Path, tuple[tuple[int, int], Strategy]] = {}

    def _strategy(self, path: Path) -> Strategy:
        """Blocking (a stat, and a read when the file changed): run it in a thread."""
        try:
            stat = path.stat()
        except OSError:
            return load_strategy(path)  # says what is wrong with the path
        seen = (stat.st_mtime_ns, stat.st_size)
        cached = self._strategies.get(path)
        if cached is not None and cached[0] == seen:
            return cached[1]
        strategy = load_strategy(path)
        self._strategies[path] = (seen, strategy)
        return strategy

    @activity.defn(name="assess_case")
    async def assess_case(self, req: AssessInput) -> Assessment:
        try:
            path = policy_path(req.strategy_version, self._default_policy)
            strategy = await asyncio.to_thread(self._strategy, path)
        except PolicyError as exc:
            raise ApplicationError(str(exc), type="PolicyError", non_retryable=True) from None
        days_past_due = max(0, (req.as_of - req.account.oldest_due_date).days)
        assessment = assess(req.account, strategy, days_past_due)
        return replace(assessment, risk_queue=self._queues.risk, legal_queue=self._queues.legal)
