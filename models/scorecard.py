"""The scorecard: an account's points under a strategy, and the segment they reach."""

from __future__ import annotations

from models.contracts import Account, Assessment, ScoreLine
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
