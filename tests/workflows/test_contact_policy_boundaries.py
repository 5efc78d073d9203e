"""The contact policy at its exact boundaries: the one-day quiet period, the shortest day a
strategy may have, the instant a zone's clock jumps, and the promise that every instant comes
back in UTC (the case shows it as text on its timeline)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from models.contracts import AttemptStatus, PastContact, RefusalReason
from models.strategy import Channel, ContactRules
from workflows.contact_policy import ContactContext, Decision, decide, next_allowed

R = RefusalReason
SHANGHAI = ZoneInfo("Asia/Shanghai")
ALL_DAY = ContactRules(window_start=time(0, 0), window_end=time(23, 59))


def context(now: datetime, **changes: object) -> ContactContext:
    base = ContactContext(
        now=now, channel=Channel.SMS, time_zone="Asia/Shanghai", rules=ContactRules(), history=()
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def local(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    """A wall time in Shanghai, carrying Shanghai's offset (as a caller may pass it)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def test_the_errors_for_a_bad_context_name_the_field_to_fix() -> None:
    with pytest.raises(ValueError, match=r"^ContactContext\.now must be timezone-aware$"):
        decide(context(datetime(2026, 5, 4, 10, 0)))
    for day_seconds in (0, -60):
        with pytest.raises(ValueError, match=r"^ContactContext\.day_seconds must be positive$"):
            decide(context(local(2026, 5, 4, 10, 0), day_seconds=day_seconds))


def test_a_one_second_day_is_the_shortest_and_caps_per_second() -> None:
    now = datetime(2026, 5, 4, 10, 0, 30, 500_000, tzinfo=UTC)
    two = tuple(PastContact(now, Channel.SMS, AttemptStatus.DELIVERED) for _ in range(2))
    ctx = context(now, rules=ALL_DAY, day_seconds=1)
    assert decide(ctx).allowed
    assert decide(replace(ctx, history=two)) == Decision(
        False, R.DAILY_CAP, datetime(2026, 5, 4, 10, 0, 31, tzinfo=UTC)
    )


@pytest.mark.parametrize(
    ("asked", "allowed"),
    [
        (local(2026, 5, 4, 9, 14, 59), False),  # one second short of a day after the talk
        (local(2026, 5, 4, 9, 15), True),  # exactly a day after it
    ],
)
def test_a_one_day_quiet_period_ends_exactly_a_day_after_the_conversation(
    asked: datetime, allowed: bool
) -> None:
    rules = replace(ContactRules(), quiet_days_after_conversation=1)
    talked = local(2026, 5, 3, 9, 15)
    ctx = context(asked, channel=Channel.VOICE, rules=rules, last_conversation_at=talked)
    decision = decide(ctx)
    assert decision.allowed is allowed
    if not allowed:
        assert decision == Decision(False, R.RECENT_CONVERSATION, talked + timedelta(days=1))


def test_a_quiet_period_of_zero_days_lets_the_next_call_go_at_once() -> None:
    rules = replace(ContactRules(), quiet_days_after_conversation=0)
    now = local(2026, 5, 4, 10, 0)
    ctx = context(now, channel=Channel.VOICE, rules=rules, last_conversation_at=now)
    assert decide(ctx).allowed


def test_a_window_opening_lost_in_a_dst_gap_opens_at_the_jump_to_the_second() -> None:
    """workflow.now() has milliseconds: from any instant asked, the clock jumps from 02:00 EST
    to 03:00 EDT at 07:00:00 UTC, and that is when a 02:30-04:00 window opens."""
    rules = replace(ContactRules(), window_start=time(2, 30), window_end=time(4, 0))
    jump = datetime(2024, 3, 10, 7, 0, tzinfo=UTC)
    for seconds in range(0, 6 * 3600, 997):  # 01:00 to 07:00 UTC, at odd seconds
        asked = datetime(2024, 3, 10, 1, 0, tzinfo=UTC) + timedelta(seconds=seconds, milliseconds=1)
        ctx = context(asked, time_zone="America/New_York", rules=rules)
        assert decide(ctx) == Decision(False, R.OUTSIDE_WINDOW, jump), asked


def _offsets(ctx: ContactContext) -> tuple[timedelta | None, timedelta | None]:
    decision = decide(ctx)
    assert decision.earliest is not None
    when = next_allowed(replace(ctx, now=decision.earliest))
    assert when == decision.earliest
    return decision.earliest.utcoffset(), when.utcoffset()


@pytest.mark.parametrize(
    "changes",
    [
        {},  # before the window opens
        {"promise_until": local(2026, 5, 6, 9, 0)},  # a promise inside the window
        {  # the rolling week: seven calls, the oldest leaves it at 10:30 today
            "channel": Channel.VOICE,
            "history": tuple(
                PastContact(oldest + timedelta(days=i), Channel.VOICE, AttemptStatus.UNANSWERED)
                for i, oldest in enumerate([local(2026, 4, 27, 10, 30)] * 7)
            ),
        },
    ],
    ids=["window", "promise", "rolling-week"],
)
def test_instants_come_back_in_utc_whatever_zone_they_were_asked_in(
    changes: dict[str, object],
) -> None:
    """The case writes `earliest` onto its timeline as text: it must read the same on any
    worker, whatever the machine's own zone (`make mutate` runs under Asia/Shanghai)."""
    ctx = context(local(2026, 5, 4, 7, 0), **changes)
    assert _offsets(ctx) == (timedelta(0), timedelta(0))


def test_a_window_wholly_inside_a_dst_gap_skips_that_day() -> None:
    """02:10-02:50 never shows on 10 March 2024 in New York (02:00 EST jumps to 03:00 EDT): asked
    the morning before, the next opening is two days out."""
    rules = replace(ContactRules(), window_start=time(2, 10), window_end=time(2, 50))
    asked = datetime(2024, 3, 9, 8, 0, tzinfo=UTC)  # 03:00 EST on the 9th
    opens = datetime(2024, 3, 11, 6, 10, tzinfo=UTC)  # 02:10 EDT on the 11th
    ctx = context(asked, time_zone="America/New_York", rules=rules)
    assert decide(ctx) == Decision(False, R.OUTSIDE_WINDOW, opens)


def test_a_fall_back_across_midnight_brings_yesterdays_opening_round_again() -> None:
    """St John's, 7 November 2010: at 00:01 NDT the clock went back to 23:01 NST on the 6th, so
    a window opening at 23:10 came round once more, nine minutes after the change."""
    rules = replace(ContactRules(), window_start=time(23, 10), window_end=time(23, 59))
    asked = datetime(2010, 11, 7, 2, 30, 30, tzinfo=UTC)  # 00:00:30 NDT on the 7th
    again = datetime(2010, 11, 7, 2, 40, tzinfo=UTC)  # 23:10 NST on the 6th
    ctx = context(asked, time_zone="America/St_Johns", rules=rules)
    assert decide(ctx) == Decision(False, R.OUTSIDE_WINDOW, again)
