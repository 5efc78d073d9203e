"""Loads a strategy (policy file, TOML) into the `Strategy` data a case carries, and assesses
an account under it (`Assessor`).

Errors name the file and the key, so an operator can fix a policy without reading code.
"""

from __future__ import annotations

import asyncio
import functools
import tomllib
from dataclasses import fields, replace
from datetime import date, time
from pathlib import Path
from typing import Any

from config.settings import POLICY_DIR, Settings, TaskQueues
from models.contracts import Account, Assessment
from models.scorecard import assess
from models.strategy import (
    Channel,
    ComplaintRules,
    ContactRules,
    LadderStep,
    PromiseRules,
    ScoreFactor,
    Segment,
    SegmentBand,
    Stages,
    Strategy,
)

SCORE_FIELDS = ("days_past_due", "overdue_minor", "outstanding_minor", "overdue_percent")


class PolicyError(ValueError):
    """A policy file that cannot be used, with the file and key that are wrong."""


def policy_path(name: str, default: Path) -> Path:
    """`""` is the configured default; otherwise a name under config/policies or a path."""
    if not name:
        return default
    if name.endswith(".toml"):
        return Path(name)
    if not name.replace("-", "").replace("_", "").isalnum():
        raise PolicyError(f"strategy name {name!r} is not a policy name")
    return POLICY_DIR / f"{name}.toml"


class Assessor:
    """Scores an account under the policy its case names: intake, before it starts the case, and
    the assessment activity of a case started without one. Parsed strategies are kept by file
    with the file's (mtime, size) when parsed: a day's intake parses each policy once, and an
    edited file is read again."""

    def __init__(self, default_policy: Path, queues: TaskQueues) -> None:
        self._default_policy = default_policy
        self._queues = queues
        self._strategies: dict[Path, tuple[tuple[int, int], Strategy]] = {}

    @staticmethod
    def configured(settings: Settings) -> Assessor:
        """The process's one assessor of the settings' default policy and queues."""
        return _configured(settings.policy_file, settings.task_queues)

    async def assess(self, account: Account, strategy_version: str, as_of: date) -> Assessment:
        """Raises `PolicyError`, naming the file and what is wrong, for a policy that cannot
        be used."""
        path = policy_path(strategy_version, self._default_policy)
        strategy = await asyncio.to_thread(self._strategy, path)
        days_past_due = max(0, (as_of - account.oldest_due_date).days)
        assessment = assess(account, strategy, days_past_due)
        return replace(assessment, risk_queue=self._queues.risk, legal_queue=self._queues.legal)

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


@functools.cache
def _configured(default_policy: Path, queues: TaskQueues) -> Assessor:
    return Assessor(default_policy, queues)


def load_strategy(path: Path) -> Strategy:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"{path}: no such policy file") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from None
    try:
        return _strategy(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise PolicyError(f"{path}: {exc}") from None


def _strategy(raw: dict[str, Any]) -> Strategy:
    for key in ("name", "version"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise ValueError(f"'{key}' must be a non-empty string")
    ladders = {
        Segment(segment): tuple(_ladder_step(segment, i, s) for i, s in enumerate(steps, 1))
        for segment, steps in raw.get("ladders", {}).items()
    }
    segments = tuple(
        SegmentBand(segment=Segment(b["segment"]), min_score=int(b["min_score"]))
        for b in raw.get("segments", [])
    )
    missing = [s for s in Segment if s not in ladders]
    if missing:
        raise ValueError(f"[ladders] has no ladder for segment(s) {', '.join(missing)}")
    if not any(band.min_score <= 0 for band in segments):
        raise ValueError("[[segments]] needs a band with min_score 0 so every score has one")
    return Strategy(
        name=raw["name"],
        version=raw["version"],
        day_seconds=_positive(raw, "day_seconds", 86_400),
        sender_name=str(raw.get("sender_name", "Bank")),
        contact=_contact(raw.get("contact", {})),
        promise=_section(PromiseRules, "promise", raw.get("promise", {})),
        stages=_stages(raw.get("stages", {})),
        complaints=_complaints(raw.get("complaints", {})),
        scorecard=tuple(_factor(i, f) for i, f in enumerate(raw.get("scorecard", []), 1)),
        segments=segments,
        ladders=ladders,
        task_deadline_days=_positive(raw, "task_deadline_days", 2),
        check_every_days=_positive(raw, "check_every_days", 1),
        history_limit=_positive(raw, "history_limit", 5_000),
    )


def _positive(raw: dict[str, Any], key: str, default: int) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or value <= 0:
        raise ValueError(f"'{key}' must be a positive integer")
    return value


def _section(cls: Any, name: str, raw: dict[str, Any]) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"[{name}] has unknown key(s) {', '.join(sorted(unknown))}")
    for key, value in raw.items():
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"[{name}] '{key}' must be a non-negative integer")
    return cls(**raw)


def _clock(name: str, value: Any) -> time:
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"[contact] '{name}' must be HH:MM, not {value!r}") from None


def _contact(raw: dict[str, Any]) -> ContactRules:
    raw = dict(raw)
    start = _clock("window_start", raw.pop("window_start", "08:00"))
    end = _clock("window_end", raw.pop("window_end", "21:00"))
    if end <= start:
        raise ValueError("[contact] window_end must be after window_start")
    rules: ContactRules = _section(ContactRules, "contact", raw)
    return ContactRules(**{**rules.__dict__, "window_start": start, "window_end": end})


def _stages(raw: dict[str, Any]) -> Stages:
    segment = raw.get("risk_review_segment", "high")
    stages = Stages(
        collector_dpd=int(raw.get("collector_dpd", 31)),
        legal_dpd=int(raw.get("legal_dpd", 91)),
        risk_review_segment=Segment(segment) if segment else None,
    )
    if not 0 < stages.collector_dpd < stages.legal_dpd:
        raise ValueError("[stages] needs 0 < collector_dpd < legal_dpd")
    return stages


def _complaints(raw: dict[str, Any]) -> ComplaintRules:
    unknown = set(raw) - {"deadline_days", "pause_collection"}
    if unknown:
        raise ValueError(f"[complaints] has unknown key(s) {', '.join(sorted(unknown))}")
    days = raw.get("deadline_days", 15)
    if not isinstance(days, int) or isinstance(days, bool) or days <= 0:
        raise ValueError("[complaints] 'deadline_days' must be a positive integer")
    pause = raw.get("pause_collection", True)
    if not isinstance(pause, bool):
        raise ValueError("[complaints] 'pause_collection' must be true or false")
    return ComplaintRules(deadline_days=days, pause_collection=pause)


def _factor(number: int, raw: dict[str, Any]) -> ScoreFactor:
    if raw.get("field") not in SCORE_FIELDS:
        raise ValueError(f"[[scorecard]] #{number}: 'field' must be one of {SCORE_FIELDS}")
    return ScoreFactor(
        name=str(raw["name"]),
        field=raw["field"],
        points=int(raw["points"]),
        low=raw.get("low"),
        high=raw.get("high"),
    )


def _ladder_step(segment: str, number: int, raw: dict[str, Any]) -> LadderStep:
    try:
        return LadderStep(
            offset_days=int(raw["offset_days"]),
            channel=Channel(raw["channel"]),
            template=str(raw["template"]),
        )
    except (KeyError, ValueError) as exc:
        raise ValueError(f"[ladders] {segment} step {number}: {exc}") from None
