"""The contact policy: may a case contact its customer on a channel now, and if not, when?

Pure and deterministic, for the workflow sandbox: the clock comes in as `ContactContext.now`,
everything else as data; zoneinfo is the only thing read. The workflow calls `decide` before
every outbound contact and, on a refusal, sleeps until `Decision.earliest` (None: until a
signal changes the case).

Days are the customer's local calendar days. A strategy with a shrunk day (`day_seconds`
other than 86 400, for demos) counts caps per block of `day_seconds` since the Unix epoch and
scales the rolling week and the quiet period with it; the local hour window always applies.
HH:MM cannot say 24:00, so a window ending at 23:59 runs to midnight (00:00-23:59 is the whole
day, which is what the demo strategy uses).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from zoneinfo import ZoneInfo

from models.contracts import AttemptStatus, PastContact, RefusalReason
from models.strategy import Channel, ContactRules

CALENDAR_DAY = 86_400

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
# Zone transitions are found by sampling the offset this often; real zones never change twice
# within six hours.
_SAMPLE = timedelta(hours=6)
_HORIZON = timedelta(days=3)
# A voice attempt is effective unless known not to have connected, and unanswered unless known
# answered: an outcome still unknown (queued, sent) counts as both, the strictest reading.
_NOT_EFFECTIVE = frozenset(
    {AttemptStatus.UNANSWERED, AttemptStatus.UNDELIVERED, AttemptStatus.FAILED}
)

_Release = Callable[[datetime], datetime]


@dataclass(frozen=True)
class ContactContext:
    """What the policy needs to know about the case at `now` (timezone-aware)."""

    now: datetime
    channel: Channel
    time_zone: str  # IANA, the customer's
    rules: ContactRules
    history: tuple[PastContact, ...]  # attempts at or before now; REFUSED ones are ignored
    opted_out: frozenset[Channel] = frozenset()
    unavailable: frozenset[Channel] = frozenset()
    dispute_open: bool = False
    paused: bool = False
    promise_until: datetime | None = None
    legal_hold: bool = False
    paid_in_full: bool = False
    closed: bool = False
    last_conversation_at: datetime | None = None
    day_seconds: int = CALENDAR_DAY


@dataclass(frozen=True)
class Decision:
    """`earliest`, on a refusal: the first instant (UTC) at which `decide` would allow the
    contact if nothing else changed; None when only a change to the case can lift it."""

    allowed: bool
    reason: RefusalReason | None = None
    earliest: datetime | None = None


def decide(ctx: ContactContext) -> Decision:
    """Allowed, or refused with the most permanent reason that applies at `ctx.now`."""
    if ctx.now.utcoffset() is None:
        raise ValueError("ContactContext.now must be timezone-aware")
    if ctx.day_seconds <= 0:
        raise ValueError("ContactContext.day_seconds must be positive")
    blocked = _blocked(ctx)
    if blocked is not None:
        return Decision(allowed=False, reason=blocked)
    now = ctx.now.astimezone(UTC)
    checks = _checks(ctx)
    reason = next((r for r, release in checks if release(now) != now), None)
    if reason is None:
        return Decision(allowed=True)
    # Each release is the first instant >= t its own rule allows, so nothing in [t, max) is
    # allowed; repeat until every rule agrees. Each extra round passes a history entry.
    t = now
    for _ in range(2 * len(ctx.history) + 16):
        later = max(release(t) for _, release in checks)
        if later == t:
            return Decision(allowed=False, reason=reason, earliest=t)
        t = later
    raise RuntimeError("contact policy did not settle on an earliest instant")


def next_allowed(ctx: ContactContext) -> datetime | None:
    """`now` (in UTC) if the contact may go now, else `Decision.earliest`."""
    decision = decide(ctx)
    return ctx.now.astimezone(UTC) if decision.allowed else decision.earliest


def _blocked(ctx: ContactContext) -> RefusalReason | None:
    """Reasons no waiting lifts, most permanent first."""
    rules = ctx.rules
    voice = ctx.channel == Channel.VOICE
    ordered = (
        (ctx.closed, RefusalReason.CLOSED),
        (ctx.paid_in_full, RefusalReason.PAID),
        (ctx.legal_hold, RefusalReason.LEGAL_HOLD),
        (ctx.dispute_open, RefusalReason.DISPUTE),
        (ctx.paused, RefusalReason.PAUSED),
        (ctx.channel in ctx.opted_out, RefusalReason.OPTED_OUT),
        (ctx.channel in ctx.unavailable, RefusalReason.CHANNEL_UNAVAILABLE),
        (voice and rules.voice_attempts_per_7_days <= 0, RefusalReason.WEEKLY_CAP),
        (
            rules.sms_per_day <= 0
            if not voice
            else min(rules.voice_effective_per_day, rules.voice_unanswered_per_day) <= 0,
            RefusalReason.DAILY_CAP,
        ),
    )
    return next((reason for hit, reason in ordered if hit), None)


def _checks(ctx: ContactContext) -> list[tuple[RefusalReason, _Release]]:
    """The rules that lift with time, in the order their reasons are reported."""
    zone = zone_info(ctx.time_zone)
    rules = ctx.rules
    day = timedelta(seconds=ctx.day_seconds)
    sent = [c for c in ctx.history if c.channel == ctx.channel]
    sent = [c for c in sent if c.status != AttemptStatus.REFUSED]
    checks: list[tuple[RefusalReason, _Release]] = []
    if ctx.promise_until is not None:
        checks.append((RefusalReason.PROMISE, _not_before(ctx.promise_until)))
    if ctx.channel == Channel.VOICE:
        if ctx.last_conversation_at is not None and rules.quiet_days_after_conversation > 0:
            quiet_end = ctx.last_conversation_at + day * rules.quiet_days_after_conversation
            checks.append((RefusalReason.RECENT_CONVERSATION, _not_before(quiet_end)))
        week = [c.at for c in sent]
        checks.append(
            (RefusalReason.WEEKLY_CAP, _rolling(week, rules.voice_attempts_per_7_days, day * 7))
        )
        capped = [
            ([c.at for c in sent if c.status not in _NOT_EFFECTIVE], rules.voice_effective_per_day),
            (
                [c.at for c in sent if c.status != AttemptStatus.ANSWERED],
                rules.voice_unanswered_per_day,
            ),
        ]
    else:
        capped = [([c.at for c in sent], rules.sms_per_day)]
    checks.append((RefusalReason.DAILY_CAP, _daily(capped, zone, ctx.day_seconds)))
    checks.append((RefusalReason.OUTSIDE_WINDOW, _window(rules, zone)))
    return checks


def zone_info(key: str) -> ZoneInfo:
    zone = ZoneInfo(key)
    if issubclass(type(zone), tzinfo):
        return zone
    # Inside Temporal's workflow sandbox ZoneInfo comes wrapped in a restricting proxy, which
    # datetime refuses as a tzinfo; the proxy hands out the real class as __class__.
    real: type[ZoneInfo] = zone.__class__
    return real(key)


def _not_before(instant: datetime) -> _Release:
    return lambda t: max(t, instant.astimezone(UTC))


def _rolling(times: list[datetime], cap: int, span: timedelta) -> _Release:
    """At most `cap` attempts in any `span`: frees up when the cap-th latest one leaves it."""
    latest = sorted(times, reverse=True)
    if len(latest) < cap:
        return lambda t: t
    leaves = latest[cap - 1].astimezone(UTC) + span
    return lambda t: max(t, leaves)


def _daily(capped: list[tuple[list[datetime], int]], zone: ZoneInfo, day_seconds: int) -> _Release:
    def day_of(t: datetime) -> date | int:
        if day_seconds == CALENDAR_DAY:
            return t.astimezone(zone).date()
        return (t - _EPOCH) // timedelta(seconds=day_seconds)

    def release(t: datetime) -> datetime:
        today = day_of(t)
        if all(sum(day_of(at) == today for at in times) < cap for times, cap in capped):
            return t
        if isinstance(today, int):
            return _EPOCH + timedelta(seconds=day_seconds) * (today + 1)
        midnight = datetime.combine(today + timedelta(days=1), time())
        return _first_instant(t, zone, lambda wall: wall >= midnight, [midnight])

    return release


def _window(rules: ContactRules, zone: ZoneInfo) -> _Release:
    start, end = rules.window_start, rules.window_end
    to_midnight = end >= time(23, 59)

    def inside(wall: datetime) -> bool:
        clock = wall.time()
        if start == end or (to_midnight and start <= clock):
            return True
        if start < end:
            return start <= clock < end
        return clock >= start or clock < end

    def release(t: datetime) -> datetime:
        today = t.astimezone(zone).date()
        openings = [datetime.combine(today + timedelta(days=k), start) for k in range(-1, 4)]
        return _first_instant(t, zone, inside, openings)

    return release


def _first_instant(
    t: datetime, zone: ZoneInfo, ok: Callable[[datetime], bool], walls: Iterable[datetime]
) -> datetime:
    """The first instant >= t whose local wall time satisfies `ok`, within a few days.

    `walls` are the wall times at which `ok` turns true. The wall clock only jumps at zone
    transitions (a gap skips an opening, a fold repeats an hour), so the answer is t itself, an
    instant showing one of `walls`, or a transition.
    """
    if ok(_wall(t, zone)):
        return t
    found = [u for wall in walls for u in _instants_showing(wall, zone) if u > t]
    found += _transitions(t, zone)
    found = [u for u in found if ok(_wall(u, zone))]
    if not found:
        raise RuntimeError(f"no allowed local time within {_HORIZON} of {t.isoformat()}")
    return min(found)


def _wall(t: datetime, zone: ZoneInfo) -> datetime:
    return t.astimezone(zone).replace(tzinfo=None)


def _instants_showing(wall: datetime, zone: ZoneInfo) -> Iterator[datetime]:
    """The instants (none in a gap, two in a fold) at which the local clock shows `wall`."""
    for fold in (0, 1):
        instant = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if _wall(instant, zone) == wall:
            yield instant


def _transitions(t: datetime, zone: ZoneInfo) -> list[datetime]:
    """Instants in (t, t + _HORIZON] at which the zone's UTC offset changes."""

    def offset(seconds: int) -> timedelta | None:
        return (_EPOCH + _SECOND * seconds).astimezone(zone).utcoffset()

    # Whole seconds since the epoch: zone transitions fall on whole seconds.
    samples = [(t + _SAMPLE * k - _EPOCH) // _SECOND for k in range(_HORIZON // _SAMPLE + 1)]
    found = []
    for lo, hi in pairwise(samples):
        before = offset(lo)
        if offset(hi) == before:
            continue
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if offset(mid) == before else (lo, mid)
        found.append(_EPOCH + _SECOND * hi)
    return found
