"""A strategy: the rules a case follows, loaded from a policy file and carried as data.

A case records the strategy it started with and keeps it across continue-as-new, so a change to
the policy file reaches new cases only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum


class Channel(StrEnum):
    SMS = "sms"
    VOICE = "voice"


class Segment(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True)
class ContactRules:
    """Customer-protection limits; the defaults are the strictest of DOMAIN.md's rules."""

    window_start: time = time(8, 0)
    window_end: time = time(21, 0)
    sms_per_day: int = 2
    voice_effective_per_day: int = 3
    voice_unanswered_per_day: int = 6
    voice_attempts_per_7_days: int = 7
    quiet_days_after_conversation: int = 7


@dataclass(frozen=True)
class LadderStep:
    """One reminder: `offset_days` after the case starts, on `channel`, with `template`."""

    offset_days: int
    channel: Channel
    template: str


@dataclass(frozen=True)
class PromiseRules:
    tolerance_percent: int = 5
    grace_days: int = 2
    max_horizon_days: int = 30
    max_broken: int = 2


@dataclass(frozen=True)
class ComplaintRules:
    """A complaint is answered within `deadline_days` (15 by default, the common regulatory
    deadline); while it is open, collection stops if `pause_collection`."""

    deadline_days: int = 15
    pause_collection: bool = True


@dataclass(frozen=True)
class ScoreFactor:
    """Points when `field` is within [`low`, `high`] (inclusive; None means unbounded)."""

    name: str
    field: str
    points: int
    low: int | None = None
    high: int | None = None


@dataclass(frozen=True)
class SegmentBand:
    segment: Segment
    min_score: int


@dataclass(frozen=True)
class Stages:
    collector_dpd: int = 31
    legal_dpd: int = 91
    risk_review_segment: Segment | None = Segment.HIGH


@dataclass(frozen=True)
class Strategy:
    """Everything that changes a case's behaviour, versioned."""

    name: str
    version: str
    day_seconds: int = 86_400
    sender_name: str = "Bank"  # how messages name the bank; nothing about the customer
    contact: ContactRules = field(default_factory=ContactRules)
    promise: PromiseRules = field(default_factory=PromiseRules)
    stages: Stages = field(default_factory=Stages)
    complaints: ComplaintRules = field(default_factory=ComplaintRules)
    scorecard: tuple[ScoreFactor, ...] = ()
    segments: tuple[SegmentBand, ...] = ()
    ladders: dict[Segment, tuple[LadderStep, ...]] = field(default_factory=dict)
    task_deadline_days: int = 2
    check_every_days: int = 1
    history_limit: int = 5_000  # events before a case continues as new
