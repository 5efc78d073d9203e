"""Bad update arguments, at scale, against the real case workflow on the time-skipping server:
hypothesis sends operator actions with amounts from zero to past int64, empty, blank, huge and
odd Unicode text, dates from year 1 to 9999, every enum member, task keys that exist and that
do not, and raw JSON that is not the input type at all (null included).

Whatever it sends, each call is answered (an `ActionResult`) or refused (the validator's or the
handler's `WorkflowUpdateFailedError`), and afterwards the case is running or properly completed
and answers `status`, and nothing in it fails for good: no failed workflow task (a poisoned
workflow fails its task on every retry and never answers again), no payload a real server would
refuse (which fails the task there), no activity retried over and over (a write the input made
impossible keeps the case waiting forever).

One case serves many examples; a new one starts once it has closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import _Definition

from models.case_status import CaseStatus
from models.complaints import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintInput,
    ComplaintOutcome,
    ResolveComplaintInput,
)
from models.contact_details import (
    ChangeAddressInput,
    ChangeMobileInput,
    ContactSource,
    WrongNumberInput,
)
from models.contracts import (
    Account,
    ActionResult,
    ChannelInput,
    CloseInput,
    ClosureReason,
    PromiseToPayInput,
    ReasonInput,
    RecordPaymentInput,
    ResolveDisputeInput,
    Stage,
)
from models.intake import MAX_MINOR
from models.strategy import Channel
from models.tasks import (
    AssignTaskInput,
    ClaimTaskInput,
    CompleteTaskInput,
    FieldVisitReport,
    PlaceCallInput,
    TaskOutcome,
    VisitCheckInput,
    VisitSlotInput,
)
from tests.workflows.harness import CaseHarness
from workflows.case import CollectionCaseWorkflow

EXAMPLES = 40
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Seconds. A poisoned case is caught at once (its failed workflow task); this budget only
# bounds a slow answer, and a 2 MiB input on a loaded CI machine took over 10 s once.
ANSWER_WITHIN = 30.0
# A real server refuses a payload past this (its default blob size limit): the worker cannot
# complete the workflow task, and fails it on every retry.
BLOB_LIMIT = 2 * 1024 * 1024
REPEATED = 3  # attempts of an activity that fails for good (retries are 1 s, 2 s ... apart)
INT64 = st.integers(-(2**63), 2**63 - 1)
ALIVE = {WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.COMPLETED}
workflow_definition = _Definition.must_from_class
UNHANDLED_COMMAND = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND

# --- values --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Days:
    """A date this many days from the case's today, fixed when the call is made."""

    n: int


@dataclass(frozen=True)
class OpenTask:
    """One of the case's open tasks (by position, wrapping), or a made-up key if none is open."""

    i: int


@dataclass(frozen=True)
class OpenComplaint:
    """One of the case's open complaints (by position, wrapping), or a made-up key if none."""

    i: int


@dataclass(frozen=True)
class OwnAccount:
    """The case's own account number."""


def rarely(strategy: st.SearchStrategy[Any], otherwise: st.SearchStrategy[Any]) -> Any:
    """`strategy` about once in two hundred draws (`one_of` weighs its branches alike)."""
    return st.integers(0, 199).flatmap(lambda n: strategy if n == 0 else otherwise)


amounts = rarely(
    st.sampled_from([2**63, 10**30, -(2**64)]),  # past int64: JSON has no limit
    st.one_of(
        st.integers(1, 50_000),  # well within the case's balances (120,000 overdue): it goes on
        st.integers(1, 200_000),
        st.sampled_from([0, -1, 1, 2**31, 2**63 - 1, -(2**63)]),
        INT64,
    ),
)


# Any text a client can encode; a lone surrogate never leaves the client (see test_api_fuzz).
texts = rarely(
    st.builds(str.__mul__, st.just("x"), st.integers(BLOB_LIMIT, BLOB_LIMIT + 100_000)),
    st.one_of(
        st.sampled_from(
            ["", " ", "\t\n", "\u3000", "\x00", "\u200b", "customer asked", "家里有事"]
        ),
        st.text(st.characters(codec="utf-8"), max_size=40),
        st.builds(
            str.__mul__, st.sampled_from(["x", "长", "\U0001f4b8"]), st.integers(1_000, 50_000)
        ),
    ),
)
reasons = st.one_of(st.just("customer asked"), texts)
# (`one_of` weighs its branches alike, and the same strategy twice counts once.)
currencies = st.one_of(
    st.sampled_from(["CNY"] * 6 + ["cny", "USD", "", " CNY", "CNY\x00"]),
    st.text(max_size=4),
)
dates = st.one_of(
    st.builds(Days, st.integers(-2, 35)),
    st.builds(Days, st.integers(-2, 35)),
    st.builds(Days, st.integers(-400, 4000)),
    st.sampled_from([date.min, date.max]),
    st.dates(),
)
payment_refs = st.one_of(st.sampled_from(["P-1", "P-2", "P-3"]), texts)
collectors = st.one_of(st.sampled_from(["ann"] * 8 + ["bob", "ann ", " "]), st.text(max_size=12))
task_keys = st.one_of(
    *(st.builds(OpenTask, st.integers(0, 3)) for _ in range(4)),
    st.sampled_from(["", "case-x/1/t1", "../../etc", "/"]),
    texts,
)


@dataclass(frozen=True)
class Call:
    update: str
    arg: Any  # the input, with `Days`, `OpenTask` and `OwnAccount` still to fix


def call(update: str, kind: type, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Call]:
    return st.builds(Call, st.just(update), st.fixed_dictionaries(fields).map(lambda f: (kind, f)))


payments = st.one_of(
    call(
        "record_payment",
        RecordPaymentInput,
        amount_minor=amounts,
        currency=currencies,
        payment_ref=payment_refs,
        note=texts,
    ),
    call(
        "promise_to_pay",
        PromiseToPayInput,
        amount_minor=amounts,
        currency=currencies,
        promised_date=dates,
        note=texts,
    ),
)
operator_actions = st.one_of(
    *[
        call(name, ReasonInput, reason=reasons)
        for name in ("raise_dispute", "report_hardship", "pause", "resume")
    ],
    call("resolve_dispute", ResolveDisputeInput, upheld=st.booleans(), reason=reasons),
    call("opt_out", ChannelInput, channel=st.sampled_from(Channel), reason=texts),
    call("opt_in", ChannelInput, channel=st.sampled_from(Channel), reason=texts),
    call("close", CloseInput, reason=st.sampled_from(ClosureReason), note=reasons),
    call(
        "raise_complaint",
        ComplaintInput,
        category=st.sampled_from(ComplaintCategory),
        channel=st.sampled_from(ComplaintChannel),
        asks=reasons,
    ),
    call(
        "resolve_complaint",
        ResolveComplaintInput,
        key=st.one_of(st.builds(OpenComplaint, st.integers(0, 2)), texts),
        outcome=st.sampled_from(ComplaintOutcome),
        response=reasons,
    ),
    call(
        "change_mobile",
        ChangeMobileInput,
        mobile=st.one_of(st.sampled_from(["+8613912345678", "+447700900123", "+8612345"]), texts),
        source=st.sampled_from(ContactSource),
        verified=st.booleans(),
    ),
    call(
        "change_address",
        ChangeAddressInput,
        address=reasons,
        source=st.sampled_from(ContactSource),
        verified=st.booleans(),
    ),
    call("mark_number_wrong", WrongNumberInput, reason=reasons),
)
task_work = st.one_of(
    call("claim_task", ClaimTaskInput, task_key=task_keys, collector=collectors),
    call(
        "complete_task",
        CompleteTaskInput,
        task_key=task_keys,
        collector=collectors,
        outcome=st.sampled_from(TaskOutcome),
        note=texts,
        promised_amount_minor=st.none() | amounts,
        promised_date=st.none() | dates,
        visit=st.none()
        | st.builds(
            FieldVisitReport,
            collectors=st.lists(collectors, max_size=3).map(tuple),
            consent_to_enter=st.booleans(),
        ),
        right_party=st.none() | st.booleans(),
        call_seconds=st.none() | INT64,
    ),
    call("raise_dispute", ReasonInput, reason=reasons),  # opens a dispute investigation
    call(
        "assign_task",
        AssignTaskInput,
        task_key=task_keys,
        assignee=collectors,
        reason=texts,
        only_unassigned=st.booleans(),
    ),
    call(
        "book_visit",
        VisitSlotInput,
        task_key=task_keys,
        day=dates,
        start=st.times(),
        end=st.times(),
        collectors=st.lists(collectors, max_size=3).map(tuple),
    ),
    call(
        "place_call",
        PlaceCallInput,
        task_key=task_keys,
        collector=collectors,
        agent_phone=st.one_of(st.just("+8613800000001"), texts),
    ),
    call("check_in_visit", VisitCheckInput, task_key=task_keys, collector=collectors),
    call("check_out_visit", VisitCheckInput, task_key=task_keys, collector=collectors),
)
refreshes = call(
    "refresh_account",
    Account,
    account_no=st.one_of(st.just(OwnAccount()), st.just(OwnAccount()), texts),
    product=texts,
    currency=currencies,
    outstanding_minor=amounts,
    overdue_minor=amounts,
    oldest_due_date=dates,
)
UPDATES = (
    "record_payment",
    "promise_to_pay",
    "raise_dispute",
    "resolve_dispute",
    "report_hardship",
    "opt_out",
    "opt_in",
    "pause",
    "resume",
    "close",
    "refresh_account",
    "claim_task",
    "complete_task",
    "raise_complaint",
    "resolve_complaint",
    "change_mobile",
    "change_address",
    "mark_number_wrong",
    "assign_task",
    "book_visit",
    "check_in_visit",
    "check_out_visit",
    "place_call",
)
json_values = st.recursive(
    st.none() | st.booleans() | INT64 | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
# What another client, an older one or a hand-written script may send instead of the input.
raw_calls = st.builds(
    Call,
    st.one_of(st.sampled_from(UPDATES), st.sampled_from(["no_such_update", "status", ""])),
    st.one_of(
        st.none(),
        json_values,
        st.fixed_dictionaries(
            {
                "amount_minor": json_values,
                "currency": json_values,
                "reason": json_values,
                "channel": json_values,
            },
            optional={"payment_ref": json_values, "promised_date": json_values},
        ),
        st.fixed_dictionaries({"channel": st.sampled_from(["pigeon", "SMS", "", None])}),
        st.fixed_dictionaries({"reason": st.sampled_from(["bored", "PAID"]), "note": texts}),
    ).map(lambda raw: (None, raw)),
)


# --- the case under test ---------------------------------------------------------------------


@dataclass
class CaseUnderTest:
    """The case the examples share, started anew once it has closed (a closed case refuses
    nearly everything, so it would only test that), or, for task work, once it has no open
    task left (the next collector call is days away, and the clock stands still)."""

    harness: CaseHarness
    dpd: int
    needs_tasks: bool = False
    handle: WorkflowHandle[Any, Any] | None = None
    touched: list[str] = field(default_factory=list)  # ids of every case this test started

    async def current(self) -> tuple[WorkflowHandle[Any, Any], CaseStatus]:
        if self.handle is not None:
            status = await status_query(self.handle)  # a completed case still answers
            if status.stage is not Stage.CLOSED and (status.open_tasks or not self.needs_tasks):
                return self.handle, status
        started = await self.harness.start(dpd=self.dpd)
        self.handle = self.harness.client.get_workflow_handle(started.id)
        self.touched.append(started.id)
        for _ in range(100):
            status = await self.assessed(self.handle)
            if status.open_tasks or not self.needs_tasks:
                break
            await asyncio.sleep(0.02)  # its collector call opens in its first steps
        return self.handle, status

    async def status_of(self, handle: WorkflowHandle[Any, Any]) -> str:
        described = await handle.describe()
        assert described.status in ALIVE, f"{handle.id} is {described.status}"
        return "running" if described.status == WorkflowExecutionStatus.RUNNING else "completed"

    async def assessed(self, handle: WorkflowHandle[Any, Any]) -> CaseStatus:
        for _ in range(100):
            try:
                return await status_query(handle)
            except WorkflowQueryFailedError:  # not yet assessed: the query is refused until then
                await asyncio.sleep(0.02)
        raise AssertionError(f"{handle.id} was never assessed")

    async def send(self, call: Call) -> ActionResult | WorkflowUpdateFailedError | RPCError:
        """The call's answer or refusal; a completed case is replaced and the call sent again.
        A request past the server's message size is refused by the server itself (an
        RPCError): it never reaches the case."""
        for _ in range(2):
            handle, status = await self.current()
            arg = await self.resolve(status, call.arg)
            try:
                return await answer_of(handle, call.update, arg)
            except WorkflowUpdateFailedError as refused:
                return refused
            except RPCError as error:
                if past_blob_limit(arg):
                    return error
                # Sent just as the case completed (a payment closed it, its closing text went).
                if error.status != RPCStatusCode.NOT_FOUND or await self.status_of(handle) != (
                    "completed"
                ):
                    raise
        raise AssertionError("two cases in a row completed under one call")

    async def resolve(self, status: CaseStatus, arg: tuple[type | None, Any]) -> Any:
        kind, fields = arg
        if kind is None:
            return fields  # raw JSON
        values = {}
        for name, value in fields.items():
            if isinstance(value, Days):
                today = (await self.harness.env.get_current_time()).date()
                value = today + timedelta(days=value.n)
            elif isinstance(value, OpenTask):
                keys = [t.key for t in status.open_tasks] or [f"{status.case_id}/x/t1"]
                value = keys[value.i % len(keys)]
            elif isinstance(value, OpenComplaint):
                keys = [c.key for c in status.open_complaints] or [f"{status.case_id}/x/cp1"]
                value = keys[value.i % len(keys)]
            elif isinstance(value, OwnAccount):
                value = status.account_no
            values[name] = value
        return kind(**values)

    async def check(self, handle: WorkflowHandle[Any, Any]) -> None:
        """Running or completed, answering `status`, and no workflow task ever failed."""
        failed = await troubles(handle)
        assert not failed, f"{handle.id}: {failed}"
        state = await self.status_of(handle)
        status = await status_query(handle)
        if state == "completed":
            assert status.stage is Stage.CLOSED
        assert 0 <= status.overdue_minor <= status.outstanding_minor
        assert status.paid_minor >= 0

    async def check_all(self) -> None:
        for case_id in self.touched:
            await self.check(self.harness.client.get_workflow_handle(case_id))


def task_failure(event: HistoryEvent) -> str | None:
    """Why the workflow task failed, if the event says it did; but not the server's own refusal
    of a task that tried to complete the workflow while an update arrived (`UNHANDLED_COMMAND`):
    the worker runs that task again with the update; it is no failure of the workflow's code."""
    if event.event_type != EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
        return None
    failed = event.workflow_task_failed_event_attributes
    if failed.cause == UNHANDLED_COMMAND:
        return None
    return f"{WorkflowTaskFailedCause.Name(failed.cause)}: {failed.failure.message}"


async def task_failures(handle: WorkflowHandle[Any, Any]) -> list[str]:
    return [
        failure
        async for entry in handle.fetch_history_events()
        if (failure := task_failure(entry)) is not None
    ]


async def failing_activities(handle: WorkflowHandle[Any, Any]) -> list[str]:
    """Activities of the workflow that keep failing: a write the input made impossible is
    retried forever, and the case waits on it forever. One that failed once gets a few
    seconds (its retries) to come through."""
    for _ in range(20):
        pending = (await handle.describe()).raw_description.pending_activities
        failing = [activity for activity in pending if activity.HasField("last_failure")]
        if not failing:
            return []
        if all(activity.attempt >= REPEATED for activity in failing):
            return [
                f"{a.activity_type.name} failed {a.attempt - 1} times: {a.last_failure.message}"
                for a in failing
            ]
        await asyncio.sleep(0.5)
    raise AssertionError(f"{handle.id}: activities neither recover nor keep failing")


async def troubles(handle: WorkflowHandle[Any, Any]) -> list[str]:
    """A poisoned workflow task; a payload a real server would refuse (the time-skipping
    server takes any size), which fails the workflow task there; or an activity failing over
    and over."""
    found = []
    async for entry in handle.fetch_history_events():
        if (failure := task_failure(entry)) is not None:
            found.append(failure)
        elif entry.ByteSize() > BLOB_LIMIT:
            found.append(f"{EventType.Name(entry.event_type)}: {entry.ByteSize()} bytes")
    return found or await failing_activities(handle)


async def answer_of(
    handle: WorkflowHandle[Any, Any], update: str, arg: Any, within: float = ANSWER_WITHIN
) -> ActionResult:
    """The update's answer; an AssertionError as soon as the case's workflow task fails (a
    poisoned case never answers), or when no answer comes in time."""
    pending = asyncio.ensure_future(handle.execute_update(update, arg, result_type=ActionResult))
    try:
        async with asyncio.timeout(within):
            while not (await asyncio.wait({pending}, timeout=0.2))[0]:
                failed = await task_failures(handle)
                assert not failed, f"{update}({arg!r:.200}) poisoned {handle.id}: {failed[0]}"
    except TimeoutError:
        raise AssertionError(f"{update} got no answer in {within} s") from None
    finally:
        if not pending.done():
            pending.cancel()
            with contextlib.suppress(
                asyncio.CancelledError, WorkflowUpdateRPCTimeoutOrCancelledError
            ):
                await pending
    answer: ActionResult = pending.result()
    return answer


async def status_query(handle: WorkflowHandle[Any, Any]) -> CaseStatus:
    """The `status` query, or an AssertionError when the case cannot answer."""
    try:
        status: CaseStatus = await handle.query(
            "status", result_type=CaseStatus, rpc_timeout=timedelta(seconds=ANSWER_WITHIN)
        )
    except RPCError as error:
        if error.status != RPCStatusCode.DEADLINE_EXCEEDED:
            raise
        raise AssertionError(f"{handle.id} does not answer `status`") from None
    return status


async def play(case: CaseUnderTest, calls: list[Call]) -> None:
    """Sends the calls; then checks every case they reached."""
    touched = len(case.touched)
    for one in calls:
        answer = await case.send(one)
        assert isinstance(answer, ActionResult | WorkflowUpdateFailedError | RPCError), answer
        event(f"{one.update}: {'answered' if isinstance(answer, ActionResult) else 'refused'}")
    for case_id in case.touched[max(0, touched - 1) :]:
        await case.check(case.harness.client.get_workflow_handle(case_id))


@pytest.fixture
async def case(departments: CaseHarness) -> AsyncIterator[CaseUnderTest]:
    """One per test, so shared by its examples; every case it started is checked at the end."""
    shared = CaseUnderTest(departments, dpd=5)
    yield shared
    await shared.check_all()


# --- the tests -------------------------------------------------------------------------------


@FUZZ
@given(calls=st.lists(payments, min_size=1, max_size=5))
async def test_payments_and_promises_of_any_amount_and_date(
    case: CaseUnderTest, calls: list[Call]
) -> None:
    await play(case, calls)


@FUZZ
@given(calls=st.lists(st.one_of(operator_actions, payments), min_size=1, max_size=5))
async def test_disputes_pauses_opt_outs_and_closing_with_any_reason(
    case: CaseUnderTest, calls: list[Call]
) -> None:
    await play(case, calls)


@FUZZ
@given(calls=st.lists(task_work, min_size=1, max_size=5))
async def test_claiming_and_completing_any_task_with_any_outcome(
    case: CaseUnderTest, calls: list[Call]
) -> None:
    case.dpd, case.needs_tasks = 40, True  # in the collector stage: a collector call is open
    await play(case, calls)


@FUZZ
@given(calls=st.lists(st.one_of(refreshes, raw_calls), min_size=1, max_size=5))
async def test_refreshes_and_raw_json_that_is_not_the_input_type(
    case: CaseUnderTest, calls: list[Call]
) -> None:
    await play(case, calls)


# --- found by the tests above -----------------------------------------------------------------


def values_in(value: Any) -> list[Any]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return values_in(dataclasses.asdict(value))
    if isinstance(value, dict):
        return [v for item in value.values() for v in values_in(item)]
    if isinstance(value, list | tuple):
        return [v for item in value for v in values_in(item)]
    return [value]


def past_blob_limit(value: Any) -> bool:
    return any(isinstance(v, str) and len(v) > BLOB_LIMIT // 2 for v in values_in(value))


async def test_a_reason_past_the_payload_limit_is_refused_not_a_poisoned_case(
    departments: CaseHarness,
) -> None:
    handle, _ = await CaseUnderTest(departments, dpd=5).current()
    reason = ReasonInput(reason="x" * (BLOB_LIMIT + 1_000))
    with contextlib.suppress(WorkflowUpdateFailedError):
        await answer_of(handle, "pause", reason, within=3.0)
    assert not await troubles(handle)


async def test_a_long_text_in_a_key_the_input_does_not_have_is_refused_not_recorded(
    case: CaseUnderTest,
) -> None:
    """Decoding drops a key the input type does not have, so no validator saw the text in it,
    and the update was accepted with its 2 MiB event recorded: a poisoned case on a real server
    (found at five times the raw calls' examples, seed 110). Such a payload is refused when
    decoded now (`temporal.client.MAX_DECODED_BYTES`)."""
    huge = "x" * (BLOB_LIMIT + 10)
    for update in ("raise_dispute", "pause"):
        answer = await case.send(Call(update, (None, {"reason": "bored", "note": huge})))
        assert isinstance(answer, WorkflowUpdateFailedError), update
    await case.check_all()


async def test_an_amount_past_int64_is_refused_not_a_case_stuck_on_its_write(
    departments: CaseHarness,
) -> None:
    case = CaseUnderTest(departments, dpd=40, needs_tasks=True)  # a collector call is open
    big = MAX_MINOR + 1
    for call in [
        Call(
            "complete_task",
            (
                CompleteTaskInput,
                {
                    "task_key": OpenTask(0),
                    "collector": "ann",
                    "outcome": TaskOutcome.PROMISE_MADE,
                    "promised_amount_minor": big,
                    "promised_date": Days(3),
                },
            ),
        ),
        Call(
            "refresh_account",
            (
                Account,
                {
                    "account_no": OwnAccount(),
                    "product": "card",
                    "currency": "CNY",
                    "outstanding_minor": big,
                    "overdue_minor": 120_000,
                    "oldest_due_date": Days(-40),
                },
            ),
        ),
        Call(
            "record_payment",
            (RecordPaymentInput, {"amount_minor": big, "currency": "CNY", "payment_ref": "P-9"}),
        ),
    ]:
        answer = await case.send(call)
        assert isinstance(answer, WorkflowUpdateFailedError), f"{call.update} took {big}"
    await case.check_all()


async def test_a_null_input_to_any_update_is_refused_not_a_poisoned_case(
    case: CaseUnderTest,
) -> None:
    """JSON null decodes to None whatever the input type. opt_out had no validator and
    opt_in's never read its input, so None reached their handlers, whose `req.channel` raised
    AttributeError: the workflow task failed on every retry, and the case answered nothing
    again (not even `status`) until a fixed worker was deployed."""
    for update in UPDATES:
        answer = await case.send(Call(update, (None, None)))
        assert isinstance(answer, WorkflowUpdateFailedError), update
    await case.check_all()


def test_every_update_of_the_case_is_fuzzed() -> None:
    """A new update joins UPDATES (and a strategy above), or this fails."""
    assert set(workflow_definition(CollectionCaseWorkflow).updates) == set(UPDATES)
