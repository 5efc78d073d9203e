"""May the collector call the customer now, and if not, when? The contact policy's own
`decide` (`workflows/contact_policy.py`) for the voice channel, over a `ContactContext` built
outside the workflow from the most honest source of each input:

- the attempts: the read model's `contact_attempts` of the case (every send writes its row before
  it goes out, and the provider's reports update its status), the same ones the case counts;
- the last conversation: the latest task done with an outcome the case counts as one (reached,
  a promise, a refusal: `models.tasks.CONVERSATION`), at its close in
  `human_tasks`: the instant the case records;
- the customer's time zone: their `customers` row;
- the rules: those of the strategy the case runs (`cases.strategy_version`, `name@version`),
  read from its policy file while the file still has that version; otherwise the configured
  policy's, and the page says which it used;
- a channel that cannot reach the customer: the audit log's `channel_unavailable` and
  `number_wrong` entries since the last `mobile_changed`;
- what only the running case knows (closed, paid, a dispute, a pause, an active plan, a complaint
  that holds collection, a hardship review, opt-outs, an open promise, a forbearance, a legal
  referral): its `status` query, through the gateway; an open promise holds calls until the
  `paused_until` its `promise` entry recorded.
Without the case's answer (Temporal unreachable, the workflow gone) the answer is "cannot tell",
never a guess. Two readings are stricter than the case's: a legal referral holds calls even
where legal allowed contact (the status does not say), and a forbearance holds to the end of its
last day. The case decides again itself when it places a call; this is what the collector sees
before picking up the phone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from config.settings import Settings
from config.strategy import PolicyError, load_strategy, policy_path
from models.case_status import CaseStatus
from models.contracts import AttemptStatus, PastContact, Stage
from models.strategy import Channel, Strategy
from models.tasks import CONVERSATION, TaskStatus
from readmodel.engine import Database
from readmodel.tables import AuditLogRow, ContactAttemptRow, HumanTaskRow
from workflows.contact_policy import ContactContext, decide, zone_info

# The audit entries that say whether the phone number reaches the customer, and the promise's.
_ENTRIES = ("channel_unavailable", "number_wrong", "mobile_changed", "promise")


@dataclass(frozen=True)
class CallWindow:
    """`known` False: the case did not answer. `next_at` (UTC) on a refusal a wait lifts;
    None when only a change to the case lifts it."""

    known: bool
    time_zone: str
    now: datetime
    allowed: bool = False
    reason: str = ""
    next_at: datetime | None = None

    def local(self, instant: datetime) -> datetime:
        """`instant` on the customer's clock."""
        return instant.astimezone(zone_info(self.time_zone))


@dataclass(frozen=True)
class CaseRules:
    """The strategy whose rules the page uses, and whether it is the one the case runs."""

    strategy: Strategy
    runs: str  # the case's own `name@version`

    @property
    def label(self) -> str:
        return f"{self.strategy.name}@{self.strategy.version}"

    @property
    def exact(self) -> bool:
        return self.label == self.runs


async def rules_of_case(settings: Settings, runs: str) -> CaseRules:
    """The policy file of the case's strategy (`runs`, `name@version`) while it still holds
    that version, else the configured policy (the page shows both labels then)."""
    return await asyncio.to_thread(_rules_of_case, settings, runs)


def _rules_of_case(settings: Settings, runs: str) -> CaseRules:
    for path in (_named(runs.partition("@")[0], settings), settings.policy_file):
        try:
            strategy = load_strategy(path) if path is not None else None
        except PolicyError:
            continue
        if strategy is not None and f"{strategy.name}@{strategy.version}" == runs:
            return CaseRules(strategy, runs)
    return CaseRules(load_strategy(settings.policy_file), runs)


def _named(name: str, settings: Settings) -> Path | None:
    try:
        return policy_path(name, settings.policy_file) if name else None
    except PolicyError:
        return None


async def call_window(
    db: Database,
    *,
    case_id: str,
    status: CaseStatus | None,
    rules: CaseRules,
    time_zone: str,
    now: datetime,
) -> CallWindow:
    if status is None:
        return CallWindow(known=False, time_zone=time_zone, now=now)
    async with db.session() as session:
        attempts = list(
            await session.exec(
                select(ContactAttemptRow).where(
                    ContactAttemptRow.case_id == case_id,
                    ContactAttemptRow.channel == Channel.VOICE,
                )
            )
        )
        done = list(
            await session.exec(
                select(HumanTaskRow).where(
                    HumanTaskRow.case_id == case_id, HumanTaskRow.status == TaskStatus.DONE
                )
            )
        )
        entries = list(
            await session.exec(
                select(AuditLogRow.kind, AuditLogRow.data)
                .where(AuditLogRow.case_id == case_id, col(AuditLogRow.kind).in_(_ENTRIES))
                .order_by(col(AuditLogRow.seq))
            )
        )
    context = contact_context(
        now=now,
        time_zone=time_zone,
        strategy=rules.strategy,
        status=status,
        attempts=attempts,
        done=done,
        entries=[(kind, data) for kind, data in entries],
    )
    decision = decide(context)
    return CallWindow(
        known=True,
        time_zone=time_zone,
        now=now,
        allowed=decision.allowed,
        reason=decision.reason or "",
        next_at=decision.earliest,
    )


def contact_context(
    *,
    now: datetime,
    time_zone: str,
    strategy: Strategy,
    status: CaseStatus,
    attempts: Sequence[ContactAttemptRow],
    done: Sequence[HumanTaskRow],
    entries: Sequence[tuple[str, Mapping[str, Any] | None]],
) -> ContactContext:
    """The policy's view of the case at `now`, from the rows and the case's status."""
    history = tuple(
        PastContact(
            at=row.created_at, channel=Channel(row.channel), status=AttemptStatus(row.status)
        )
        for row in attempts
        if row.created_at <= now
        and row.channel in Channel.__members__.values()
        and row.status in AttemptStatus.__members__.values()
    )
    talks = [
        row.closed_at
        for row in done
        if row.closed_at is not None and row.outcome in _EFFECTIVE and row.closed_at <= now
    ]
    holds = [_promise_hold(status, entries, strategy.promise.grace_days, time_zone)]
    if status.forbearance_until is not None:
        holds.append(_day_end(status.forbearance_until, time_zone))
    promise_until = max((h for h in holds if h is not None), default=None)
    paused = (
        status.paused
        or status.plan_status == "active"
        or any(c.pauses_collection for c in status.open_complaints)
        or (status.stage is Stage.RISK_REVIEW and status.risk_review is not None)
    )
    return ContactContext(
        now=now,
        channel=Channel.VOICE,
        time_zone=time_zone,
        rules=strategy.contact,
        history=history,
        opted_out=frozenset(status.opted_out),
        unavailable=frozenset(unreachable(entries)),
        dispute_open=status.dispute_open,
        paused=paused,
        promise_until=promise_until,
        legal_hold=status.legal_referral is not None,
        paid_in_full=status.outstanding_minor == 0,
        closed=status.closed_reason is not None or status.stage is Stage.CLOSED,
        last_conversation_at=max(talks, default=None),
        day_seconds=status.day_seconds,
    )


_EFFECTIVE = frozenset(outcome.value for outcome in CONVERSATION)


def unreachable(entries: Iterable[tuple[str, Mapping[str, Any] | None]]) -> set[Channel]:
    """The channels the case's number cannot take, as its audit entries tell (in order): a
    provider's error or a wrong number closes them, a new number opens them again."""
    closed: set[Channel] = set()
    for kind, data in entries:
        if kind == "mobile_changed":
            closed.clear()
        elif kind == "number_wrong":
            closed |= {Channel.SMS, Channel.VOICE}
        elif kind == "channel_unavailable":
            named = str((data or {}).get("channels", "")).split(",")
            closed |= {
                Channel(c.strip()) for c in named if c.strip() in Channel.__members__.values()
            }
    return closed


def _promise_hold(
    status: CaseStatus,
    entries: Sequence[tuple[str, Mapping[str, Any] | None]],
    grace_days: int,
    time_zone: str,
) -> datetime | None:
    """Until when the open promise holds calls: as its entry recorded it, else (an entry not
    yet written) to the end of its last grace day for the customer."""
    promise = status.open_promise
    if promise is None:
        return None
    made = [data for kind, data in entries if kind == "promise" and data]
    with contextlib.suppress(IndexError, KeyError, ValueError):
        return datetime.fromisoformat(str(made[-1]["paused_until"]))
    return _day_end(promise.promised_date + timedelta(days=grace_days), time_zone)


def _day_end(day: date, time_zone: str) -> datetime:
    """The instant `day` ends on the customer's clock."""
    return datetime.combine(day + timedelta(days=1), time(), zone_info(time_zone))
