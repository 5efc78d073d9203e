"""The contact policy: examples for each rule, then properties against an independent oracle.

`Oracle` restates the rules the plainest way (count, compare) with no search for the next
instant; the properties check `decide` against it minute by minute. Every generated instant
is a whole minute and every zone's offset is a whole number of minutes in the years used, so
the first allowed minute is the first allowed instant.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from models.contracts import AttemptStatus, PastContact, RefusalReason
from models.strategy import Channel, ContactRules
from workflows.contact_policy import ContactContext, Decision, decide, next_allowed

S = AttemptStatus
R = RefusalReason
MINUTE = timedelta(minutes=1)
DEFAULT = ContactRules()


def at(
    zone: str, year: int, month: int, day: int, hour: int, minute: int, second: int = 0
) -> datetime:
    """A local wall time in `zone`, as UTC."""
    return datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def context(now: datetime, **changes: object) -> ContactContext:
    base = ContactContext(
        now=now, channel=Channel.SMS, time_zone="Asia/Shanghai", rules=DEFAULT, history=()
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def calls(*items: tuple[datetime, AttemptStatus]) -> tuple[PastContact, ...]:
    return tuple(PastContact(when, Channel.VOICE, status) for when, status in items)


def texts(*whens: datetime) -> tuple[PastContact, ...]:
    return tuple(PastContact(when, Channel.SMS, S.DELIVERED) for when in whens)


# --- examples: the hour window -----------------------------------------------------------


def test_window_opens_at_eight_and_closes_at_nine_pm_local() -> None:
    zone = "Asia/Shanghai"
    assert decide(context(at(zone, 2026, 5, 4, 7, 59))) == Decision(
        False, R.OUTSIDE_WINDOW, at(zone, 2026, 5, 4, 8, 0)
    )
    assert decide(context(at(zone, 2026, 5, 4, 8, 0))).allowed
    assert decide(context(at(zone, 2026, 5, 4, 20, 59))).allowed
    assert decide(context(at(zone, 2026, 5, 4, 21, 0))) == Decision(
        False, R.OUTSIDE_WINDOW, at(zone, 2026, 5, 5, 8, 0)
    )


@pytest.mark.parametrize(
    ("night_before", "opening_utc"),
    [
        # spring forward: 08:00 EDT is 12:00 UTC, the evening before was still EST
        (datetime(2024, 3, 10, 2, 30, tzinfo=UTC), datetime(2024, 3, 10, 12, 0, tzinfo=UTC)),
        # fall back: 08:00 EST is 13:00 UTC, the evening before was still EDT
        (datetime(2024, 11, 3, 2, 0, tzinfo=UTC), datetime(2024, 11, 3, 13, 0, tzinfo=UTC)),
    ],
)
def test_window_follows_new_york_across_dst(night_before: datetime, opening_utc: datetime) -> None:
    ctx = context(night_before, time_zone="America/New_York")
    assert decide(ctx) == Decision(False, R.OUTSIDE_WINDOW, opening_utc)
    assert not decide(replace(ctx, now=opening_utc - MINUTE)).allowed
    assert decide(replace(ctx, now=opening_utc)).allowed


def test_window_in_a_45_minute_zone() -> None:
    ctx = context(datetime(2026, 1, 1, 2, 14, tzinfo=UTC), time_zone="Asia/Kathmandu")
    assert decide(ctx) == Decision(False, R.OUTSIDE_WINDOW, datetime(2026, 1, 1, 2, 15, tzinfo=UTC))


def test_window_opening_inside_a_dst_gap_opens_when_the_clock_jumps_past_it() -> None:
    rules = replace(DEFAULT, window_start=time(2, 30), window_end=time(4, 0))
    # 01:00 EST; at 07:00 UTC the clock jumps from 02:00 EST to 03:00 EDT, inside the window
    ctx = context(
        datetime(2024, 3, 10, 6, 0, tzinfo=UTC), time_zone="America/New_York", rules=rules
    )
    assert decide(ctx).earliest == datetime(2024, 3, 10, 7, 0, tzinfo=UTC)


def test_window_reopens_when_a_dst_fold_repeats_its_hours() -> None:
    rules = replace(DEFAULT, window_start=time(20, 0), window_end=time(1, 30))
    # 01:30 EDT closes the window; at 06:00 UTC the clock falls back to 01:00 EST, inside it
    ctx = context(
        datetime(2024, 11, 3, 5, 30, tzinfo=UTC), time_zone="America/New_York", rules=rules
    )
    assert decide(ctx).earliest == datetime(2024, 11, 3, 6, 0, tzinfo=UTC)


def test_window_opens_again_when_a_fold_repeats_its_opening() -> None:
    rules = replace(DEFAULT, window_start=time(1, 30), window_end=time(3, 0))
    # 01:10 EST, the second time round: 01:30 EDT has passed, 01:30 EST is still to come
    ctx = context(
        datetime(2024, 11, 3, 6, 10, tzinfo=UTC), time_zone="America/New_York", rules=rules
    )
    assert decide(ctx).earliest == datetime(2024, 11, 3, 6, 30, tzinfo=UTC)


def test_a_window_ending_at_23_59_runs_to_midnight() -> None:
    rules = replace(DEFAULT, window_start=time(0, 0), window_end=time(23, 59))
    assert decide(context(at("Asia/Shanghai", 2026, 5, 4, 23, 59, 30), rules=rules)).allowed


@pytest.mark.parametrize(
    ("wall", "allowed"),
    [((22, 59, 59), True), ((23, 0, 0), False), ((23, 58, 0), False), ((7, 59, 59), False)],
)
def test_a_window_ending_at_23_00_closes_at_23_00_not_at_midnight(
    wall: tuple[int, int, int], allowed: bool
) -> None:
    rules = replace(DEFAULT, window_start=time(8, 0), window_end=time(23, 0))
    now = at("Asia/Shanghai", 2026, 5, 4, *wall)
    decision = decide(context(now, rules=rules))
    assert decision.allowed is allowed
    if not allowed:
        opens = at("Asia/Shanghai", 2026, 5, 5 if wall[0] >= 23 else 4, 8, 0)
        assert decision == Decision(False, R.OUTSIDE_WINDOW, opens)


def test_a_zone_that_cannot_be_loaded_is_an_error_not_a_silent_utc() -> None:
    with pytest.raises(ZoneInfoNotFoundError):
        decide(context(at("Asia/Shanghai", 2026, 5, 4, 12, 0), time_zone="Mars/Olympus"))


# --- examples: caps ----------------------------------------------------------------------


def test_sms_cap_counts_the_local_calendar_day() -> None:
    zone = "America/New_York"
    now = at(zone, 2026, 5, 4, 10, 0)
    last_evening = at(zone, 2026, 5, 3, 20, 30)  # already 4 May in UTC
    one_today = texts(last_evening, at(zone, 2026, 5, 4, 8, 5))
    assert decide(context(now, time_zone=zone, history=one_today)).allowed
    two_today = (*one_today, *texts(at(zone, 2026, 5, 4, 9, 0)))
    assert decide(context(now, time_zone=zone, history=two_today)) == Decision(
        False, R.DAILY_CAP, at(zone, 2026, 5, 5, 8, 0)
    )


def test_refused_attempts_are_not_contacts() -> None:
    now = at("Asia/Shanghai", 2026, 5, 4, 10, 0)
    refused = tuple(PastContact(now - MINUTE, Channel.SMS, S.REFUSED) for _ in range(5))
    assert decide(context(now, history=refused)).allowed


def test_sms_history_does_not_count_against_voice() -> None:
    now = at("Asia/Shanghai", 2026, 5, 4, 10, 0)
    history = texts(now - MINUTE, now - MINUTE)
    assert not decide(context(now, history=history)).allowed
    assert decide(context(now, history=history, channel=Channel.VOICE)).allowed


@pytest.mark.parametrize(
    ("statuses", "allowed"),
    [
        ((S.ANSWERED,) * 3, False),  # three effective contacts
        ((S.ANSWERED, S.ANSWERED, S.QUEUED), False),  # an unknown outcome counts as effective
        ((S.ANSWERED, S.ANSWERED, *(S.UNANSWERED,) * 3), True),
        ((S.UNANSWERED,) * 6, False),  # six unanswered
        ((*(S.UNANSWERED,) * 5, S.SENT), False),  # an unknown outcome counts as unanswered
        ((S.ANSWERED, S.ANSWERED, S.UNCONFIRMED), False),  # a call that may have rung counts
        ((*(S.UNANSWERED,) * 5, S.UNCONFIRMED), False),
        ((*(S.UNANSWERED,) * 4, S.FAILED), True),
    ],
)
def test_voice_daily_caps(statuses: tuple[AttemptStatus, ...], allowed: bool) -> None:
    zone = "Asia/Shanghai"
    now = at(zone, 2026, 5, 4, 18, 0)
    history = calls(*((now - MINUTE * (i + 1), s) for i, s in enumerate(statuses)))
    rules = replace(DEFAULT, voice_attempts_per_7_days=10)
    decision = decide(context(now, channel=Channel.VOICE, history=history, rules=rules))
    assert decision.allowed is allowed
    if not allowed:
        assert decision == Decision(False, R.DAILY_CAP, at(zone, 2026, 5, 5, 8, 0))


def test_a_daily_voice_cap_of_zero_never_calls() -> None:
    rules = replace(DEFAULT, voice_effective_per_day=0)
    now = at("Asia/Shanghai", 2026, 5, 4, 12, 0)
    decision = decide(context(now, channel=Channel.VOICE, rules=rules))
    assert decision == Decision(False, R.DAILY_CAP, None)
    assert decide(context(now, channel=Channel.SMS, rules=rules)).allowed


def test_voice_rolling_week_frees_up_when_the_oldest_attempt_leaves_it() -> None:
    zone = "Asia/Shanghai"
    now = at(zone, 2026, 5, 8, 9, 0)
    history = calls(*((at(zone, 2026, 5, 1 + i, 10, 30), S.UNANSWERED) for i in range(7)))
    assert decide(context(now, channel=Channel.VOICE, history=history)) == Decision(
        False, R.WEEKLY_CAP, at(zone, 2026, 5, 8, 10, 30)
    )


def test_rolling_week_release_waits_for_the_window() -> None:
    zone = "Asia/Shanghai"
    now = at(zone, 2026, 5, 8, 6, 0)
    history = calls(*((at(zone, 2026, 5, 1 + i, 6, 30), S.UNANSWERED) for i in range(7)))
    assert decide(context(now, channel=Channel.VOICE, history=history)) == Decision(
        False, R.WEEKLY_CAP, at(zone, 2026, 5, 8, 8, 0)
    )


def test_daily_cap_next_day_begins_when_a_dst_gap_skips_midnight() -> None:
    zone = "America/Santiago"  # on 8 Sep 2024 the clock went from 23:59:59 to 01:00
    rules = replace(DEFAULT, window_start=time(0, 0), window_end=time(23, 59))
    now = at(zone, 2024, 9, 7, 16, 0)
    decision = decide(context(now, time_zone=zone, rules=rules, history=texts(now, now)))
    assert decision == Decision(False, R.DAILY_CAP, datetime(2024, 9, 8, 4, 0, tzinfo=UTC))


def test_a_shrunk_day_caps_per_block_and_keeps_the_window() -> None:
    rules = replace(DEFAULT, window_start=time(0, 0), window_end=time(23, 59))
    now = datetime(2026, 5, 4, 10, 0, 30, tzinfo=UTC)  # blocks of 60 s since the epoch
    ctx = context(now, rules=rules, history=texts(now, now), day_seconds=60)
    assert decide(ctx) == Decision(False, R.DAILY_CAP, datetime(2026, 5, 4, 10, 1, tzinfo=UTC))
    night = context(at("Asia/Shanghai", 2026, 5, 4, 22, 0), history=texts(now, now), day_seconds=60)
    assert decide(night).reason is R.OUTSIDE_WINDOW


def test_zero_cap_disables_the_channel() -> None:
    now = at("Asia/Shanghai", 2026, 5, 4, 10, 0)
    assert decide(context(now, rules=replace(DEFAULT, sms_per_day=0))) == Decision(
        False, R.DAILY_CAP
    )
    rules = replace(DEFAULT, voice_attempts_per_7_days=0)
    assert decide(context(now, rules=rules, channel=Channel.VOICE)) == Decision(False, R.WEEKLY_CAP)


# --- examples: case state -----------------------------------------------------------------


def test_recent_conversation_quiets_voice_only() -> None:
    zone = "Asia/Shanghai"
    talked = at(zone, 2026, 5, 1, 9, 15)
    now = at(zone, 2026, 5, 4, 10, 0)
    ctx = context(now, channel=Channel.VOICE, last_conversation_at=talked)
    assert decide(ctx) == Decision(False, R.RECENT_CONVERSATION, at(zone, 2026, 5, 8, 9, 15))
    assert decide(replace(ctx, channel=Channel.SMS)).allowed


def test_promise_pauses_until_its_date_then_the_window() -> None:
    zone = "Asia/Shanghai"
    now = at(zone, 2026, 5, 4, 10, 0)
    assert decide(context(now, promise_until=at(zone, 2026, 5, 6, 9, 0))) == Decision(
        False, R.PROMISE, at(zone, 2026, 5, 6, 9, 0)
    )
    assert decide(context(now, promise_until=at(zone, 2026, 5, 6, 0, 0))) == Decision(
        False, R.PROMISE, at(zone, 2026, 5, 6, 8, 0)
    )
    assert decide(context(now, promise_until=now)).allowed


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"opted_out": frozenset({Channel.SMS})}, R.OPTED_OUT),
        ({"unavailable": frozenset({Channel.SMS})}, R.CHANNEL_UNAVAILABLE),
        ({"dispute_open": True}, R.DISPUTE),
        ({"paused": True}, R.PAUSED),
        ({"legal_hold": True}, R.LEGAL_HOLD),
        ({"paid_in_full": True}, R.PAID),
        ({"closed": True}, R.CLOSED),
        ({"closed": True, "dispute_open": True, "opted_out": frozenset(Channel)}, R.CLOSED),
        ({"dispute_open": True, "opted_out": frozenset({Channel.SMS})}, R.DISPUTE),
    ],
)
def test_case_state_refusals_wait_for_a_change(changes: dict[str, object], reason: R) -> None:
    night = at("Asia/Shanghai", 2026, 5, 4, 23, 0)
    assert decide(context(night, **changes)) == Decision(False, reason, None)


def test_opting_out_of_one_channel_leaves_the_other() -> None:
    now = at("Asia/Shanghai", 2026, 5, 4, 10, 0)
    ctx = context(now, opted_out=frozenset({Channel.SMS}), channel=Channel.VOICE)
    assert decide(ctx).allowed


def test_promise_is_reported_before_the_window_and_caps() -> None:
    zone = "Asia/Shanghai"
    night = at(zone, 2026, 5, 4, 23, 0)
    ctx = context(night, promise_until=night + MINUTE, history=texts(night, night))
    assert decide(ctx) == Decision(False, R.PROMISE, at(zone, 2026, 5, 5, 8, 0))


def test_next_allowed() -> None:
    zone = "Asia/Shanghai"
    assert next_allowed(context(at(zone, 2026, 5, 4, 10, 0))) == at(zone, 2026, 5, 4, 10, 0)
    assert next_allowed(context(at(zone, 2026, 5, 4, 7, 0))) == at(zone, 2026, 5, 4, 8, 0)
    assert next_allowed(context(at(zone, 2026, 5, 4, 7, 0), paused=True)) is None


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        decide(context(datetime(2026, 5, 4, 10, 0)))


# Any error fails the run at once instead of retrying the workflow task for ever.
@workflow.defn(failure_exception_types=[Exception])
class PolicyInTheSandbox:
    """Asks the policy at workflow.now(), sleeps until `earliest`, asks again."""

    @workflow.run
    async def run(self, zone: str) -> list[str]:
        asked: list[str] = []
        for _ in range(3):
            now = workflow.now()
            sent_today = texts(now, now) if not asked else ()
            decision = decide(context(now, time_zone=zone, history=sent_today))
            asked.append(decision.reason or "allowed")
            if decision.allowed or decision.earliest is None:
                break
            await workflow.sleep(decision.earliest - now)
        return asked


async def test_decides_inside_the_workflow_sandbox(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    """zoneinfo is wrapped in the sandbox; the policy must still convert local times there."""
    # The sandbox imports this module, the workflow's; only the test tools are let through,
    # so the policy runs as a case workflow runs it, with ZoneInfo wrapped.
    tools = SandboxRestrictions.default.with_passthrough_modules("hypothesis", "pytest", "_pytest")
    async with Worker(
        ts_env.client,
        task_queue=task_queue,
        workflows=[PolicyInTheSandbox],
        workflow_runner=SandboxedWorkflowRunner(restrictions=tools),
    ):
        asked = await ts_env.client.execute_workflow(
            PolicyInTheSandbox.run,
            "Asia/Kathmandu",
            id=f"policy-{task_queue}",
            task_queue=task_queue,
        )
    assert asked == [R.DAILY_CAP, "allowed"]


# --- the independent oracle ----------------------------------------------------------------

# A call the provider may or may not have placed (`unconfirmed`) is an unknown outcome: it counts
# as effective and as unanswered, the strictest reading, like one still queued.
UNKNOWN = {S.QUEUED, S.SENT, S.DELIVERED, S.UNCONFIRMED}
ANSWERED_OR_UNKNOWN = {S.ANSWERED, *UNKNOWN}
NOT_ANSWERED = {S.UNANSWERED, S.UNDELIVERED, S.FAILED, *UNKNOWN}


@dataclass(frozen=True)
class Oracle:
    """Which time-bound rules a contact at an instant would break, most permanent first.

    `earlier` must hold only attempts before that instant; REFUSED ones are skipped here.
    """

    channel: Channel
    zone: ZoneInfo
    rules: ContactRules
    day_seconds: int = 86_400
    promise_until: datetime | None = None
    last_conversation_at: datetime | None = None

    def day(self, instant: datetime) -> date | int:
        if self.day_seconds == 86_400:
            return instant.astimezone(self.zone).date()
        return int(instant.timestamp()) // self.day_seconds

    def in_window(self, instant: datetime) -> bool:
        def seconds(clock: time) -> int:
            return clock.hour * 3600 + clock.minute * 60 + clock.second

        now = seconds(instant.astimezone(self.zone).time())
        start = seconds(self.rules.window_start)
        end = seconds(self.rules.window_end)
        if end >= seconds(time(23, 59)):
            end = 86_400
        if start == end:
            return True
        if start < end:
            return start <= now < end
        return now >= start or now < end

    def broken(self, instant: datetime, earlier: list[PastContact]) -> list[RefusalReason]:
        day = timedelta(seconds=self.day_seconds)
        mine = [c for c in earlier if c.channel == self.channel and c.status != S.REFUSED]
        today = [c for c in mine if self.day(c.at) == self.day(instant)]
        rules = self.rules
        found = []
        if self.promise_until is not None and instant < self.promise_until:
            found.append(R.PROMISE)
        if self.channel == Channel.VOICE:
            talked = self.last_conversation_at
            if talked is not None and instant < talked + day * rules.quiet_days_after_conversation:
                found.append(R.RECENT_CONVERSATION)
            in_week = [c for c in mine if instant - c.at < day * 7]
            if len(in_week) + 1 > rules.voice_attempts_per_7_days:
                found.append(R.WEEKLY_CAP)
            effective = [c for c in today if c.status in ANSWERED_OR_UNKNOWN]
            unanswered = [c for c in today if c.status in NOT_ANSWERED]
            if (
                len(effective) + 1 > rules.voice_effective_per_day
                or len(unanswered) + 1 > rules.voice_unanswered_per_day
            ):
                found.append(R.DAILY_CAP)
        elif len(today) + 1 > rules.sms_per_day:
            found.append(R.DAILY_CAP)
        if not self.in_window(instant):
            found.append(R.OUTSIDE_WINDOW)
        return found


def oracle_for(ctx: ContactContext) -> Oracle:
    return Oracle(
        channel=ctx.channel,
        zone=ZoneInfo(ctx.time_zone),
        rules=ctx.rules,
        day_seconds=ctx.day_seconds,
        promise_until=ctx.promise_until,
        last_conversation_at=ctx.last_conversation_at,
    )


# --- generators ----------------------------------------------------------------------------

ZONES = [
    "UTC",
    "Asia/Shanghai",
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",  # -03:30 with DST
    "America/Santiago",  # DST switches at midnight
    "America/Havana",  # DST switches at midnight
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Dublin",  # negative DST in tzdata
    "Africa/Cairo",
    "Asia/Beirut",
    "Asia/Tehran",  # +03:30, DST until 2022
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Asia/Yangon",  # +06:30
    "Australia/Adelaide",  # +09:30 / +10:30
    "Australia/Eucla",  # +08:45
    "Australia/Lord_Howe",  # half-hour DST
    "Pacific/Chatham",  # +12:45 / +13:45
    "Pacific/Marquesas",  # -09:30
    "Pacific/Kiritimati",  # +14
    "Pacific/Apia",
]

WINDOWS = [
    (time(8, 0), time(21, 0)),
    (time(8, 0), time(21, 0)),
    (time(8, 0), time(21, 0)),
    (time(0, 0), time(23, 59)),
    (time(9, 30), time(17, 45)),
    (time(23, 0), time(0, 0)),
]
# Windows whose edges meet the clock changes at night, and the whole day (caps meet them).
CLOCK_CHANGE_WINDOWS = [
    (time(0, 0), time(23, 59)),
    (time(2, 30), time(4, 0)),  # opens inside spring-forward gaps
    (time(1, 30), time(3, 0)),  # opens twice on fall-back nights
    (time(0, 30), time(1, 45)),  # reopens when the clock falls back
    (time(20, 0), time(1, 30)),  # overnight, across folds
]

FIRST = datetime(2005, 1, 1, tzinfo=UTC)
LAST = datetime(2036, 1, 1, tzinfo=UTC)


@cache
def clock_changes(zone: str) -> list[datetime]:
    """The zone's DST changes in 2011 (Samoa skipped a day) and 2024, to the minute.

    Computed on first use: the sandbox test imports this module, where ZoneInfo is wrapped."""
    tz = ZoneInfo(zone)
    found = []
    day = datetime(2011, 1, 1, tzinfo=UTC)
    while day.year in (2011, 2024):
        lo, hi = day, day + timedelta(days=1)
        if lo.astimezone(tz).utcoffset() != hi.astimezone(tz).utcoffset():
            while hi - lo > MINUTE:
                mid = lo + (hi - lo) / 2
                mid = mid.replace(second=0, microsecond=0)
                if mid.astimezone(tz).utcoffset() == lo.astimezone(tz).utcoffset():
                    lo = mid
                else:
                    hi = mid
            found.append(hi)
        day += timedelta(days=1)
        if day.year == 2012:
            day = datetime(2024, 1, 1, tzinfo=UTC)
    return found


@st.composite
def instants(draw: st.DrawFn, zone: str) -> datetime:
    """A whole minute in 2005-2035, often within days of one of the zone's clock changes."""
    near = clock_changes(zone)
    if draw(st.booleans()) and near:
        base = draw(st.sampled_from(near))
        return base + MINUTE * draw(st.integers(-2 * 1440, 2 * 1440))
    total = (LAST - FIRST) // MINUTE
    return FIRST + MINUTE * draw(st.integers(0, total))


@st.composite
def rule_sets(draw: st.DrawFn, windows: list[tuple[time, time]] | None = None) -> ContactRules:
    start, end = draw(st.sampled_from(windows or WINDOWS))
    return ContactRules(
        window_start=start,
        window_end=end,
        sms_per_day=draw(st.integers(1, 3)),
        voice_effective_per_day=draw(st.integers(1, 3)),
        voice_unanswered_per_day=draw(st.integers(1, 6)),
        voice_attempts_per_7_days=draw(st.integers(1, 7)),
        quiet_days_after_conversation=draw(st.integers(0, 7)),
    )


day_lengths = st.sampled_from([86_400, 86_400, 86_400, 3600, 600])


@st.composite
def contexts(draw: st.DrawFn, clock_change: bool = False) -> ContactContext:
    """A case with no standing refusal: only time-bound rules can say no.

    With `clock_change`, `now` is within the day before a DST change (or just after it) and the
    window's edges or the end of the day meet the change."""
    if clock_change:
        zone = draw(st.sampled_from([zone for zone in ZONES if clock_changes(zone)]))
        change = draw(st.sampled_from(clock_changes(zone)))
        now = change + MINUTE * draw(st.integers(-90, 90) | st.integers(-1440, 180))
        windows = CLOCK_CHANGE_WINDOWS
        if draw(st.booleans()):
            # an opening near the wall time the clock leaves or lands on
            wall = (change - MINUTE * draw(st.integers(0, 1))).astimezone(ZoneInfo(zone))
            start = wall + MINUTE * draw(st.integers(-45, 45))
            end = start + MINUTE * draw(st.integers(15, 600))
            windows = [(start.time().replace(second=0), end.time().replace(second=0))]
        rules = draw(rule_sets(windows))
        day_seconds = 86_400
    else:
        zone = draw(st.sampled_from(ZONES))
        now = draw(instants(zone))
        rules = draw(rule_sets())
        day_seconds = draw(day_lengths)
    day_minutes = day_seconds // 60
    # Mostly today, so that daily caps bite, some over the rolling week.
    back = st.integers(0, day_minutes) | st.integers(0, 8 * day_minutes)
    contact = st.builds(
        PastContact,
        at=back.map(lambda minutes: now - MINUTE * minutes),
        channel=st.sampled_from(Channel),
        status=st.sampled_from(AttemptStatus),
    )
    size = draw(st.sampled_from([0, 1, 2, 3, 4, 6, 8, 12, 25]))
    history = draw(st.lists(contact, min_size=size, max_size=size))
    promise, talked = None, None
    if draw(st.sampled_from([False, False, False, True])):
        promise = now + MINUTE * draw(st.integers(-60, 3 * day_minutes))
    if draw(st.sampled_from([False, False, False, True])):
        talked = now - MINUTE * draw(st.integers(0, 8 * day_minutes))
    return ContactContext(
        now=now,
        channel=draw(st.sampled_from(Channel)),
        time_zone=zone,
        rules=rules,
        history=tuple(history),
        promise_until=promise,
        last_conversation_at=talked,
        day_seconds=day_seconds,
    )


cases = contexts() | contexts(clock_change=True)
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- properties ----------------------------------------------------------------------------


@PROPERTY
@given(cases)
def test_decision_agrees_with_the_oracle(ctx: ContactContext) -> None:
    """Allowed exactly when no rule is broken, and the reason is the most permanent one."""
    broken = oracle_for(ctx).broken(ctx.now, list(ctx.history))
    decision = decide(ctx)
    assert decision.allowed is (not broken)
    assert decision.reason == (broken[0] if broken else None)


@PROPERTY
@given(cases)
def test_earliest_is_the_first_allowed_instant(ctx: ContactContext) -> None:
    decision = decide(ctx)
    if decision.allowed:
        assert decision.earliest is None
        return
    earliest = decision.earliest
    assert earliest is not None
    assert earliest > ctx.now
    assert decide(replace(ctx, now=earliest)).allowed
    for before in (earliest - MINUTE, earliest - timedelta(microseconds=1)):
        if before >= ctx.now:
            assert not decide(replace(ctx, now=before)).allowed
    oracle, history = oracle_for(ctx), list(ctx.history)
    assert not oracle.broken(earliest, history)
    minute = ctx.now
    while minute < earliest:
        assert oracle.broken(minute, history), f"allowed at {minute}, before {earliest}"
        minute += MINUTE


@PROPERTY
@given(
    contexts(),
    st.sets(st.sampled_from(["dispute_open", "paused", "legal_hold", "paid_in_full", "closed"])),
    st.sets(st.sampled_from(Channel)),
    st.sets(st.sampled_from(Channel)),
)
def test_standing_refusals_have_no_earliest(
    ctx: ContactContext, flags: set[str], opted_out: set[Channel], unavailable: set[Channel]
) -> None:
    ctx = replace(
        ctx,
        opted_out=frozenset(opted_out),
        unavailable=frozenset(unavailable),
        **dict.fromkeys(flags, True),  # type: ignore[arg-type]
    )
    expected = [
        reason
        for hit, reason in [
            ("closed" in flags, R.CLOSED),
            ("paid_in_full" in flags, R.PAID),
            ("legal_hold" in flags, R.LEGAL_HOLD),
            ("dispute_open" in flags, R.DISPUTE),
            ("paused" in flags, R.PAUSED),
            (ctx.channel in opted_out, R.OPTED_OUT),
            (ctx.channel in unavailable, R.CHANNEL_UNAVAILABLE),
        ]
        if hit
    ]
    decision = decide(ctx)
    if expected:
        assert decision == Decision(False, expected[0], None)
    else:
        assert decision == decide(replace(ctx, opted_out=frozenset(), unavailable=frozenset()))


OUTCOMES = {
    Channel.SMS: [S.DELIVERED, S.UNDELIVERED, S.FAILED, S.SENT],
    Channel.VOICE: [S.ANSWERED, S.UNANSWERED, S.FAILED, S.SENT],
}


@dataclass(frozen=True)
class Wish:
    gap_minutes: int
    channel: Channel
    outcome: int  # index into OUTCOMES[channel]
    outcome_after_minutes: int


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_thirty_days_of_wishes_never_break_a_rule(data: st.DataObject) -> None:
    """Contacts go out when allowed or at `earliest`; outcomes arrive later, an answered call
    starts a quiet period. Every contact that went out keeps the rules as known at the time."""
    zone = data.draw(st.sampled_from(ZONES))
    start = data.draw(instants(zone))
    rules = data.draw(rule_sets())
    day_seconds = data.draw(day_lengths)
    day_minutes = day_seconds // 60
    wishes = data.draw(
        st.lists(
            st.builds(
                Wish,
                gap_minutes=st.integers(0, day_minutes // 2),
                channel=st.sampled_from(Channel),
                outcome=st.integers(0, 3),
                outcome_after_minutes=st.integers(0, day_minutes),
            ),
            min_size=data.draw(st.sampled_from([5, 40, 120])),
            max_size=120,
        )
    )
    promise = None
    if data.draw(st.booleans()):
        promise = start + MINUTE * data.draw(st.integers(0, 5 * day_minutes))
    base = ContactContext(
        now=start,
        channel=Channel.SMS,
        time_zone=zone,
        rules=rules,
        history=(),
        promise_until=promise,
        day_seconds=day_seconds,
    )
    end = start + timedelta(seconds=30 * day_seconds)
    sent: list[tuple[PastContact, datetime, AttemptStatus]] = []  # queued, outcome at, outcome

    def history_at(now: datetime) -> tuple[PastContact, ...]:
        return tuple(
            replace(contact, status=outcome) if known <= now else contact
            for contact, known, outcome in sent
        )

    def talked_at(now: datetime) -> datetime | None:
        answered = [c.at for c in history_at(now) if c.status == S.ANSWERED]
        return max(answered, default=None)

    def case_at(now: datetime, channel: Channel) -> ContactContext:
        history, talked = history_at(now), talked_at(now)
        return replace(base, now=now, channel=channel, history=history, last_conversation_at=talked)

    clock = start
    talked_then = []
    for wish in wishes:
        clock += MINUTE * wish.gap_minutes
        if clock >= end:
            break
        decision = decide(case_at(clock, wish.channel))
        while not decision.allowed:
            # Only news can refuse again at `earliest`: an outcome revealing a conversation.
            assert decision.earliest is not None
            talked = talked_at(clock)
            clock = decision.earliest
            decision = decide(case_at(clock, wish.channel))
            assert decision.allowed or talked_at(clock) != talked, "refused at its own earliest"
        talked_then.append(talked_at(clock))
        contact = PastContact(clock, wish.channel, S.QUEUED)
        outcome = OUTCOMES[wish.channel][wish.outcome]
        sent.append((contact, clock + MINUTE * wish.outcome_after_minutes, outcome))

    # Outcomes only ever settle an unknown, so checking against the final ones is no laxer.
    final = [replace(contact, status=outcome) for contact, _, outcome in sent]
    for index, contact in enumerate(final):
        oracle = replace(
            oracle_for(base), channel=contact.channel, last_conversation_at=talked_then[index]
        )
        assert oracle.broken(contact.at, final[:index]) == [], f"attempt {index} at {contact.at}"
