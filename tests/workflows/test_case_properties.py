"""The contact policy as a property of the whole case: whatever operators do, and whenever,
every contact that went out was allowed.

Each example opens a fresh case on a fresh time-skipping server (its clock is skipped first, to
just before a daylight-saving change where the zone has one), then plays a random sequence of
operator actions and waits. Every contact the case recorded is then checked by a checker
written here from the rules alone (the numbers come from the policy file): inside the window
in the customer's time zone, under the daily and rolling caps, and never while the case was
paused, disputed, within a promise's period, opted out of that channel, or closed.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError

from config.settings import POLICY_DIR
from config.strategy import load_strategy
from models.case_status import CaseStatus
from models.contracts import (
    AttemptStatus,
    ChannelInput,
    PromiseToPayInput,
    ReasonInput,
    RecordPaymentInput,
    RefusalReason,
    ResolveDisputeInput,
    TimelineEvent,
)
from models.strategy import Channel, Strategy
from readmodel.engine import Database
from readmodel.tables import ContactAttemptRow
from tests.fakes.twilio_api import FakeTwilio
from tests.workflows.harness import (
    POLICIES,
    CaseHarness,
    department_settings,
    department_workers,
    local_send_done,
    time_skipping_env,
    twilio_sender,
)
from workflows.case import CollectionCaseWorkflow as Case

ZONES = (
    "America/New_York",
    "Asia/Kathmandu",
    "Asia/Shanghai",
    "Europe/London",
    "Pacific/Auckland",
)
STRATEGIES = {"default": POLICY_DIR / "default.toml", "tight": POLICIES / "tight_contact.toml"}
FOREVER = datetime.max.replace(tzinfo=UTC)
PROMISED = 30_000  # every promise is for this much
_mobiles = itertools.count(1)


# --- scenarios ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """An operator action (`kind`, with `arg`), or `sleep` for `arg` minutes."""

    kind: str
    arg: int = 0
    channel: Channel = Channel.SMS


@dataclass(frozen=True)
class Scenario:
    time_zone: str
    strategy: str
    dpd: int
    overdue: int
    near_dst: bool  # open the case shortly before the zone's next daylight-saving change
    lead_minutes: int  # that long before it (or after the next local midnight)
    ops: tuple[Op, ...]


def _sleeps() -> st.SearchStrategy[Op]:
    return st.builds(Op, st.just("sleep"), st.integers(30, 4 * 24 * 60))


def _actions() -> st.SearchStrategy[Op]:
    channel = st.sampled_from(Channel)
    return st.one_of(
        st.builds(Op, st.just("promise"), st.integers(0, 6)),  # arg: days ahead
        st.builds(Op, st.just("pay"), st.integers(1, 60).map(lambda k: k * 1_000)),
        st.sampled_from([Op("pause"), Op("resume"), Op("dispute"), Op("resolve")]),
        st.builds(Op, st.just("opt_out"), st.just(0), channel),
        st.builds(Op, st.just("opt_in"), st.just(0), channel),
    )


scenarios = st.builds(
    Scenario,
    time_zone=st.sampled_from(ZONES),
    strategy=st.sampled_from(sorted(STRATEGIES)),
    dpd=st.integers(0, 35),
    overdue=st.sampled_from([60_000, 120_000, 300_000]),
    near_dst=st.booleans(),
    lead_minutes=st.integers(0, 5 * 24 * 60),
    ops=st.lists(st.one_of(_sleeps(), _sleeps(), _actions()), max_size=10).map(tuple),
)

NEW_YORK_SPRING = Scenario(
    time_zone="America/New_York",
    strategy="tight",
    dpd=3,
    overdue=120_000,
    near_dst=True,
    lead_minutes=3 * 24 * 60 + 7 * 60,
    ops=(
        Op("sleep", 26 * 60),
        Op("pause"),
        Op("sleep", 20 * 60),
        Op("resume"),
        Op("sleep", 3 * 24 * 60),
        Op("opt_out", channel=Channel.VOICE),
        Op("sleep", 2 * 24 * 60),
        Op("promise", 2),
    ),
)
AUCKLAND_DISPUTE = Scenario(
    time_zone="Pacific/Auckland",
    strategy="default",
    dpd=10,
    overdue=60_000,
    near_dst=True,
    lead_minutes=36 * 60,
    ops=(
        Op("sleep", 30 * 60),
        Op("dispute"),
        Op("sleep", 50 * 60),
        Op("resolve"),
        Op("pay", 20_000),
        Op("sleep", 6 * 24 * 60),
        Op("pay", 40_000),
    ),
)

# A promise made at 20:30 in New York (01:30 UTC, the next day there) for two days later; the
# daily ladder calls on each of the following mornings.
NEW_YORK_EVENING_PROMISE = Scenario(
    time_zone="America/New_York",
    strategy="tight",
    dpd=3,
    overdue=120_000,
    near_dst=False,
    lead_minutes=9 * 60,
    ops=(Op("sleep", 11 * 60 + 30), Op("promise", 2)),
)

# Found by this test: opened (with the promise) at 23:59 in New York, just before the clocks
# change; it is already the next day in UTC.
NEW_YORK_MIDNIGHT_PROMISE = Scenario(
    time_zone="America/New_York",
    strategy="default",
    dpd=0,
    overdue=60_000,
    near_dst=True,
    lead_minutes=121,
    ops=(Op("promise", 1),),
)

# Found by CI: paid in full at 08:00 while the first reminder, scheduled in the case's first
# workflow task, was still with the provider; the closing message's task then started in the
# millisecond the reminder's answer arrived.
PAID_WHILE_THE_FIRST_REMINDER_IS_OUT = Scenario(
    time_zone="America/New_York",
    strategy="default",
    dpd=0,
    overdue=60_000,
    near_dst=False,
    lead_minutes=480,
    ops=(Op("pay", 60_000),),
)


# --- what happened --------------------------------------------------------------------------


@dataclass
class Done:
    """An operator action the case accepted; `at` is when it took effect in the case (the
    workflow time the case's timeline gives its event)."""

    op: Op
    at: datetime = FOREVER
    promised: date | None = None
    payment_ref: str = ""


@dataclass(frozen=True)
class Contact:
    at: datetime  # when the case recorded it as sent
    decided: datetime  # the workflow task that scheduled the send: the policy said yes then
    channel: Channel
    template: str


@dataclass(frozen=True)
class Refusal:
    decided: datetime  # the attempt row's time: the case's clock when it asked the policy
    recorded: datetime  # the timeline's event, after the row was written
    channel: Channel
    reason: str


@dataclass
class Story:
    zone: ZoneInfo
    strategy: Strategy
    done: list[Done] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)


# --- the checker ----------------------------------------------------------------------------
#
# A state holds from its action's `at` to the lifting action's `at`. A contact breaks it when
# the workflow task that decided the send ran strictly inside: one that ran in the same task as
# the action may have decided before the handler ran, and gets the benefit of the doubt.


def intervals(
    story: Story, start: str, end: str, channel: Channel | None = None
) -> Iterator[tuple[datetime, datetime]]:
    """Spans from an accepted `start` action to the next accepted `end` (or forever)."""
    began: datetime | None = None
    for done in story.done:
        if channel is not None and done.op.channel is not channel:
            continue
        if done.op.kind == start and began is None:
            began = done.at
        elif done.op.kind == end and began is not None:
            yield began, done.at
            began = None
    if began is not None:
        yield began, FOREVER


def promise_periods(story: Story) -> Iterator[tuple[datetime, datetime]]:
    """From the promise to its check (the promised date plus grace days, counted from the
    customer's own calendar day) or to the payment that keeps it, whichever comes first."""
    rules = story.strategy.promise
    day = timedelta(seconds=story.strategy.day_seconds)
    for i, done in enumerate(story.done):
        if done.op.kind != "promise" or done.promised is None:
            continue
        days = (done.promised - done.at.astimezone(story.zone).date()).days + rules.grace_days
        until = done.at + day * max(0, days)
        paid = 0
        for later in story.done[i + 1 :]:
            if later.op.kind == "pay" and later.at < until:
                paid += later.op.arg
                if paid * 100 >= PROMISED * (100 - rules.tolerance_percent):
                    until = later.at
                    break
        yield done.at, until


def closed_since(story: Story, overdue: int) -> datetime:
    """A case closes (cured) when its payments clear the arrears."""
    paid = 0
    for done in story.done:
        if done.op.kind == "pay":
            paid += done.op.arg
            if paid >= overdue:
                return done.at
    return FOREVER


def violations(story: Story, overdue: int) -> list[str]:
    rules = story.strategy.contact
    found: list[str] = []
    closed = closed_since(story, overdue)
    blocks: dict[str, list[tuple[datetime, datetime]]] = {
        "paused": list(intervals(story, "pause", "resume")),
        "disputed": list(intervals(story, "dispute", "resolve")),
        "within a promise's period": list(promise_periods(story)),
    }
    opted = {c: list(intervals(story, "opt_out", "opt_in", c)) for c in Channel}
    per_day: Counter[tuple[Channel, date]] = Counter()
    voice_times: list[datetime] = []
    for contact in story.contacts:
        local = contact.at.astimezone(story.zone)
        what = f"{contact.channel} {contact.template} at {local.isoformat()}"
        for moment in (contact.decided, contact.at):
            clock = moment.astimezone(story.zone).time()
            if not rules.window_start <= clock < rules.window_end:
                found.append(f"{what}: outside the {rules.window_start}-{rules.window_end} window")
        per_day[contact.channel, local.date()] += 1
        if contact.channel is Channel.VOICE:
            voice_times.append(contact.at)
            week = [t for t in voice_times if contact.at - timedelta(days=7) < t <= contact.at]
            if len(week) > rules.voice_attempts_per_7_days:
                found.append(f"{what}: {len(week)} calls within 7 days")
        closing = contact.template.startswith("closing_")
        if closing and contact.decided < closed:
            found.append(f"{what}: a closing message before closure")
        if not closing and contact.decided > closed:
            found.append(f"{what}: after closure")
        if any(a < contact.decided < b for a, b in opted[contact.channel]):
            found.append(f"{what}: after an opt-out of {contact.channel}")
        for name, spans in blocks.items():
            if not closing and any(a < contact.decided < b for a, b in spans):
                found.append(f"{what}: {name}")
    caps = {
        Channel.SMS: rules.sms_per_day,
        Channel.VOICE: min(rules.voice_effective_per_day, rules.voice_unanswered_per_day),
    }
    for (channel, day), count in per_day.items():
        if count > caps[channel]:
            found.append(f"{count} {channel} contacts on {day}, more than {caps[channel]}")
    # A refusal the case recorded for a reason must match what operators did.
    for refusal in story.refusals:
        held = {
            RefusalReason.PAUSED: blocks["paused"],
            RefusalReason.DISPUTE: blocks["disputed"],
            RefusalReason.OPTED_OUT: opted[refusal.channel],
        }.get(RefusalReason(refusal.reason))
        if held is not None and not any(
            a <= refusal.recorded and refusal.decided <= b for a, b in held
        ):
            found.append(
                f"{refusal.channel} refused as {refusal.reason} at "
                f"{refusal.decided.isoformat()}, yet it was not"
            )
    return found


# --- running a scenario ---------------------------------------------------------------------


def next_transition(zone: ZoneInfo, after: datetime) -> datetime | None:
    """The zone's next change of UTC offset within a year, to the second."""

    def offset(t: datetime) -> timedelta | None:
        return t.astimezone(zone).utcoffset()

    lo = after
    for _ in range(366):
        hi = lo + timedelta(days=1)
        if offset(hi) != offset(lo):
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if offset(mid) == offset(lo) else (lo, mid)
            return hi
        lo = hi
    return None


async def open_at(harness: CaseHarness, scenario: Scenario, zone: ZoneInfo) -> None:
    now = await harness.env.get_current_time()
    change = next_transition(zone, now) if scenario.near_dst else None
    if change is not None and change - now > timedelta(minutes=scenario.lead_minutes):
        moment = change - timedelta(minutes=scenario.lead_minutes)
    else:
        midnight = datetime.combine(now.astimezone(zone).date() + timedelta(days=1), time(), zone)
        moment = midnight + timedelta(minutes=scenario.lead_minutes % (24 * 60))
    await harness.sleep_until(moment)


async def play(
    harness: CaseHarness, handle: WorkflowHandle[Case, CaseStatus], op: Op, zone: ZoneInfo
) -> Done | None:
    if op.kind == "sleep":
        await harness.skip(timedelta(minutes=op.arg))
        return None
    done = Done(op)
    try:
        if op.kind == "promise":
            today = (await harness.env.get_current_time()).astimezone(zone).date()
            done.promised = today + timedelta(days=op.arg)
            await handle.execute_update(
                Case.promise_to_pay,
                PromiseToPayInput(
                    amount_minor=PROMISED, currency="CNY", promised_date=done.promised
                ),
            )
        elif op.kind == "pay":
            done.payment_ref = uuid.uuid4().hex
            await handle.execute_update(
                Case.record_payment,
                RecordPaymentInput(
                    amount_minor=op.arg, currency="CNY", payment_ref=done.payment_ref
                ),
            )
        elif op.kind in ("opt_out", "opt_in"):
            channel_update = Case.opt_out if op.kind == "opt_out" else Case.opt_in
            await handle.execute_update(channel_update, ChannelInput(channel=op.channel))
        elif op.kind == "resolve":
            await handle.execute_update(
                Case.resolve_dispute, ResolveDisputeInput(upheld=False, reason="verified")
            )
        else:
            reason_update = {
                "pause": Case.pause,
                "resume": Case.resume,
                "dispute": Case.raise_dispute,
            }[op.kind]
            await handle.execute_update(reason_update, ReasonInput(reason="test"))
    except (WorkflowUpdateFailedError, RPCError):
        return None  # refused (already paused, no dispute open, case closed ...)
    return done


EVENT_OF = {
    "promise": "promise",
    "pay": "payment",
    "pause": "paused",
    "resume": "resumed",
    "dispute": "dispute_raised",
    "resolve": "dispute_resolved",
    "opt_out": "opted_out",
    "opt_in": "opted_in",
}


def attach_times(story: Story, timeline: list[TimelineEvent]) -> None:
    """Gives each accepted action the time the case shows for it, in order of kind (and
    channel, and payment reference); an opt-out of a channel already out changes nothing and
    has no event, so it is dropped."""
    events: dict[str, deque[TimelineEvent]] = defaultdict(deque)
    for event in timeline:
        events[event.kind].append(event)
    out: set[Channel] = set()
    kept: list[Done] = []
    for done in story.done:
        kind = done.op.kind
        if kind == "opt_out" and done.op.channel in out:
            continue
        if kind == "opt_in" and done.op.channel not in out:
            continue
        queue = events[EVENT_OF[kind]]
        if kind in ("opt_out", "opt_in"):
            (out.add if kind == "opt_out" else out.discard)(done.op.channel)
            mine = next(e for e in queue if e.detail.startswith(f"{done.op.channel}:"))
            queue.remove(mine)
        elif kind == "pay":
            mine = next(e for e in queue if e.detail.endswith(f"ref {done.payment_ref}"))
            queue.remove(mine)
        else:
            mine = queue.popleft()
        done.at = mine.at
        kept.append(done)
    story.done = kept


async def send_decisions(
    handle: WorkflowHandle[Case, CaseStatus],
) -> list[tuple[datetime, datetime]]:
    """For every send that completed: when it completed, and the start of the workflow task that
    scheduled it (the policy said yes then).

    A send is paired with its own scheduling through the completion's `scheduled_event_id`, not
    by time: the next send's workflow task may start in the very millisecond this one's answer
    arrives, and a reminder scheduled before a payment may still be in flight when it lands.
    """
    task_started: datetime | None = None
    decided_by_event: dict[int, datetime] = {}
    sends = []
    for event in (await handle.fetch_history()).events:
        if event.HasField("workflow_task_started_event_attributes"):
            task_started = event.event_time.ToDatetime(tzinfo=UTC)
        elif (
            event.HasField("activity_task_scheduled_event_attributes")
            and event.activity_task_scheduled_event_attributes.activity_type.name == "send_contact"
        ):
            assert task_started is not None
            decided_by_event[event.event_id] = task_started
        elif event.HasField("activity_task_completed_event_attributes"):
            scheduled = event.activity_task_completed_event_attributes.scheduled_event_id
            if scheduled in decided_by_event:
                completed = event.event_time.ToDatetime(tzinfo=UTC)
                sends.append((completed, decided_by_event[scheduled]))
        elif local_send_done(event):
            # Sent in the task that decided it; the case reads its answer at the task's time.
            assert task_started is not None
            sends.append((task_started, task_started))
    return sends


async def settled(
    harness: CaseHarness, handle: WorkflowHandle[Case, CaseStatus], mobile: str
) -> tuple[list[TimelineEvent], list[ContactAttemptRow]]:
    """The timeline and the attempt rows once they agree. The clock stands still outside
    `env.sleep`, but a step that began as the last sleep ended may still be writing its row."""
    for _ in range(100):
        timeline = await harness.timeline(handle)
        rows = await harness.attempts(handle)
        kinds = Counter(e.kind for e in timeline)
        statuses = Counter(r.status == AttemptStatus.REFUSED for r in rows)
        if (
            kinds["contact_refused"] == statuses[True]
            and kinds["contact_sent"] + kinds["contact_failed"] == statuses[False]
            and kinds["contact_sent"] == len(harness.fake.sent_to(mobile))
        ):
            return timeline, rows
        await asyncio.sleep(0.02)
    raise AssertionError("the timeline, the attempt rows and the provider never agreed")


async def collect(
    harness: CaseHarness, handle: WorkflowHandle[Case, CaseStatus], story: Story, mobile: str
) -> None:
    """What the case recorded (its timeline, the send activities in its history, the attempt
    rows), cross-checked against what the provider received."""
    timeline, rows = await settled(harness, handle, mobile)
    attach_times(story, timeline)
    sent = [e for e in timeline if e.kind == "contact_sent"]
    sends = await send_decisions(handle)
    for event in sent:
        channel, template = event.detail.split(" ", 1)
        # The case records a send in the workflow task that receives its answer.
        _, decided = max(s for s in sends if s[0] <= event.at)
        story.contacts.append(Contact(event.at, decided, Channel(channel), template))
    went_out = [r for r in rows if r.status not in (AttemptStatus.REFUSED, AttemptStatus.FAILED)]
    received = harness.fake.sent_to(mobile)
    assert {r.provider_id for r in went_out} == {r.sid for r in received}
    assert [r.channel for r in went_out] == [c.channel for c in story.contacts]
    refused_rows = [r for r in rows if r.status == AttemptStatus.REFUSED]
    refused_events = [e for e in timeline if e.kind == "contact_refused"]
    for row, event in zip(refused_rows, refused_events, strict=True):
        assert event.detail.startswith(f"{row.channel} ") and f": {row.reason}" in event.detail
        decided = row.created_at.replace(tzinfo=row.created_at.tzinfo or UTC)
        story.refusals.append(Refusal(decided, event.at, Channel(row.channel), row.reason))


async def run_scenario(scenario: Scenario, fake: FakeTwilio, db: Database) -> Story:
    zone = ZoneInfo(scenario.time_zone)
    strategy_file = STRATEGIES[scenario.strategy]
    story = Story(zone, load_strategy(strategy_file))
    mobile = f"+8613700{next(_mobiles):06d}"
    sender = twilio_sender(fake)
    queue = f"tq-{uuid.uuid4().hex[:10]}"
    try:
        async with time_skipping_env() as env, department_workers(env, queue, db, sender):
            harness = CaseHarness(
                env=env, queue=queue, fake=fake, db=db, settings=department_settings(queue)
            )
            await open_at(harness, scenario, zone)
            handle = await harness.start(
                dpd=scenario.dpd,
                outstanding=500_000,
                overdue=scenario.overdue,
                mobile=mobile,
                time_zone=scenario.time_zone,
                strategy=str(strategy_file),
            )
            for op in (*scenario.ops, Op("sleep", 5 * 24 * 60)):
                done = await play(harness, handle, op, zone)
                if done is not None:
                    story.done.append(done)
            await collect(harness, handle, story, mobile)
    finally:
        await sender.aclose()
    return story


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # Each example is a whole case; tracing which lines fail ("explain") would cost minutes.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
@example(scenario=NEW_YORK_SPRING)
@example(scenario=AUCKLAND_DISPUTE)
@example(scenario=NEW_YORK_MIDNIGHT_PROMISE)
@example(scenario=PAID_WHILE_THE_FIRST_REMINDER_IS_OUT)
@given(scenario=scenarios)
async def test_every_contact_of_a_case_is_one_the_policy_allows(
    scenario: Scenario, fake_twilio: FakeTwilio, sqlite_db: Database
) -> None:
    story = await run_scenario(scenario, fake_twilio, sqlite_db)
    problems = violations(story, scenario.overdue)
    assert not problems, "\n".join([*problems, told(story)])


def told(story: Story) -> str:
    """The story a failure is judged on, for whoever reads the failure: a rare race needs it."""
    done = [f"{d.op.kind} at {d.at.isoformat()}" for d in story.done]
    sent = [
        f"{c.channel} {c.template} decided {c.decided.isoformat()} sent {c.at.isoformat()}"
        for c in story.contacts
    ]
    return "actions: " + "; ".join(done) + "\ncontacts: " + "; ".join(sent)


async def test_a_promise_made_in_a_new_york_evening_keeps_contact_paused_for_its_whole_period(
    fake_twilio: FakeTwilio, sqlite_db: Database
) -> None:
    story = await run_scenario(NEW_YORK_EVENING_PROMISE, fake_twilio, sqlite_db)
    assert len(story.contacts) >= 2  # the case did go on after the promise
    problems = violations(story, NEW_YORK_EVENING_PROMISE.overdue)
    assert not problems, "\n".join(problems)


def test_the_checker_sees_what_it_must() -> None:
    """The checker is only as good as what it flags: a text at 22:00, a third text in a day,
    a call while paused, a text after an opt-out, a call within a promise's period and after
    the case closed are all reported."""
    zone = ZoneInfo("Asia/Shanghai")
    base = datetime(2027, 1, 4, 10, tzinfo=zone)
    story = Story(zone, load_strategy(STRATEGIES["default"]))
    story.done = [
        Done(Op("pause"), base + timedelta(hours=5)),
        Done(Op("resume"), base + timedelta(hours=7)),
        Done(Op("opt_out", channel=Channel.SMS), base + timedelta(hours=8)),
        Done(Op("promise", 0), base + timedelta(hours=8), promised=base.date()),
        Done(Op("pay", 5_000), base + timedelta(hours=9)),
    ]
    for hours, channel in [(0, "sms"), (1, "sms"), (2, "sms"), (6, "voice"), (8.5, "sms")]:
        at = base + timedelta(hours=hours)
        template = "voice_reminder" if channel == "voice" else "reminder_friendly"
        story.contacts.append(Contact(at, at, Channel(channel), template))
    late = base + timedelta(hours=10)
    story.contacts.append(Contact(late, late, Channel.VOICE, "voice_reminder"))
    story.contacts.append(Contact(base + timedelta(hours=12), base, Channel.SMS, "closing_cured"))
    problems = violations(story, overdue=5_000)
    assert any(p.startswith("sms closing_cured") and "outside" in p for p in problems)
    assert any(p.startswith("5 sms contacts") for p in problems)
    assert any(p.startswith("voice") and p.endswith("paused") for p in problems)
    assert any(p.endswith("after an opt-out of sms") for p in problems)
    assert any("T18:30" in p and p.endswith("within a promise's period") for p in problems)
    assert any("T20:00" in p and p.endswith("after closure") for p in problems)
    assert any(p.endswith("a closing message before closure") for p in problems)
