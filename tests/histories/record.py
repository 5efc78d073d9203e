"""Records the case histories kept in this folder, which `tests/workflows/test_replay.py`
replays against the current code: real cases on the time-skipping server, the fake Twilio,
and no payload codec, so the files need no key.

    .venv/bin/python -m tests.histories.record [SCENARIO ...]    # default: all of them

Record again only on purpose: a file that stops replaying means the change needs
`workflow.patched`, not a new recording.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import csv
import json
import os
import sys
import tempfile
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.messaging.senders import OutboxSender, Sender
from config.settings import PROJECT_ROOT
from models.case_status import CaseStatus
from models.contracts import (
    ChannelInput,
    CloseInput,
    ClosureReason,
    PromiseToPayInput,
    ReasonInput,
    RecordPaymentInput,
    ResolveDisputeInput,
)
from models.daily_intake import DailyIntakeInput
from models.departments import RiskDecision, RiskDecisionKind
from models.retention import RetentionInput
from models.strategy import Channel
from models.tasks import (
    AssignTaskInput,
    ClaimTaskInput,
    CompleteTaskInput,
    FieldVisitReport,
    PlaceCallInput,
    TaskKind,
    TaskOutcome,
    VisitCheckInput,
    VisitSlotInput,
)
from models.visibility import ALL_KEYS
from readmodel import sealing
from readmodel.engine import Database, migrate
from temporal.client import data_converter
from temporal.history_files import write_history
from tests.fakes.twilio_api import FakeTwilio
from tests.temporal_env import installed_binary
from tests.workflows.harness import CaseHarness, running_harness, test_settings, twilio_sender
from tests.workflows.test_daily_intake import drop, intake_settings, overdue_file
from workers.main import Services, build_worker
from workflows.case import CollectionCaseWorkflow as Case
from workflows.daily_intake import DailyIntakeWorkflow
from workflows.retention import RetentionWorkflow
from workflows.risk_review import RiskReviewWorkflow

HERE = Path(__file__).parent
# Relative, so no machine's path is written into a history; run from the project root.
SHORT_HISTORY = "tests/workflows/policies/short_history.toml"

Handle = WorkflowHandle[Case, CaseStatus]
# A scenario's histories, each with the part of its file name after the scenario's own.
Recorded = list[tuple[str, WorkflowHistory]]
Scenario = Callable[[CaseHarness], Awaitable[Recorded]]


async def morning(env: WorkflowEnvironment, hour: int = 10) -> None:
    """Skips to the next `hour`:00 in Shanghai, inside the contact window, so a recording does
    not depend on the time of day it was made."""
    zone = ZoneInfo("Asia/Shanghai")
    now = (await env.get_current_time()).astimezone(zone)
    day = now.date() if now.time() < time(hour) else now.date() + timedelta(days=1)
    await env.sleep(datetime.combine(day, time(hour), zone) - now)


async def pay(handle: Handle, amount: int, ref: str) -> None:
    await handle.execute_update(
        Case.record_payment,
        RecordPaymentInput(amount_minor=amount, currency="CNY", payment_ref=ref),
    )


async def promise_pause_payment(harness: CaseHarness) -> Recorded:
    """Reminders, a promise to pay that is broken, a partial payment, a pause and a resume,
    then the balance paid in full: closed as paid, with the closing message."""
    await morning(harness.env)
    handle = await harness.start(dpd=5, outstanding=500_000, overdue=120_000)
    await harness.sleep_days(1)
    promised = await harness.today() + timedelta(days=3)
    await handle.execute_update(
        Case.promise_to_pay,
        PromiseToPayInput(amount_minor=50_000, currency="CNY", promised_date=promised),
    )
    await pay(handle, 10_000, "BANK-1")
    await handle.execute_update(Case.pause, ReasonInput(reason="customer asked for a week"))
    await harness.sleep_days(2)
    await handle.execute_update(Case.resume, ReasonInput(reason="week is over"))
    await harness.sleep_days(5)
    await pay(handle, 490_000, "BANK-2")
    await handle.result()
    return [("", await handle.fetch_history())]


async def dispute_and_collector(harness: CaseHarness) -> Recorded:
    """An opt-out from texts, a dispute raised and rejected, the collector stage with a task
    claimed and completed, then a manual write-off."""
    await morning(harness.env)
    handle = await harness.start(dpd=25, outstanding=300_000, overdue=200_000)
    await harness.sleep_days(1)
    await handle.execute_update(Case.opt_out, ChannelInput(channel=Channel.SMS, reason="STOP"))
    await harness.sleep_days(2)
    await handle.execute_update(Case.raise_dispute, ReasonInput(reason="amount looks wrong"))
    await harness.sleep_days(1)
    await handle.execute_update(
        Case.resolve_dispute, ResolveDisputeInput(upheld=False, reason="statement checked")
    )
    await harness.sleep_days(3)  # past 31 days: the collector stage opens a call task
    status = await handle.query(Case.status)
    task = next(t for t in status.open_tasks if t.kind is TaskKind.COLLECTOR_CALL)
    await handle.execute_update(
        Case.claim_task, ClaimTaskInput(task_key=task.key, collector="collector-7")
    )
    await handle.execute_update(
        Case.complete_task,
        CompleteTaskInput(
            task_key=task.key, collector="collector-7", outcome=TaskOutcome.REACHED, note="will pay"
        ),
    )
    await harness.sleep_days(1)
    await handle.execute_update(
        Case.close, CloseInput(reason=ClosureReason.WRITTEN_OFF, note="below collection cost")
    )
    await handle.result()
    return [("", await handle.fetch_history())]


async def retries_and_new_run(harness: CaseHarness) -> Recorded:
    """Twilio failing the first sends (the activity retries), then a strategy with a short
    history limit: the case continues as new and is paid in its second run. Both runs."""
    await morning(harness.env)
    harness.fake.fail_next(3, status=429)
    handle = await harness.start(dpd=5, outstanding=200_000, overdue=50_000, strategy=SHORT_HISTORY)
    first = handle.result_run_id or ""
    while (await harness.client.get_workflow_handle(handle.id).describe()).run_id == first:
        await harness.sleep_days(2)
    await pay(handle, 200_000, "BANK-9")
    await handle.result()
    runs = _runs(harness.client, handle.id, first)
    return [(f"run{n}", await run.fetch_history()) for n, run in enumerate(runs, start=1)]


async def quiet_case(harness: CaseHarness) -> Recorded:
    """A case left alone for 100 days: its ladder's reminders, the collector stage with a call
    that misses its deadline, the legal threshold noted and the referral's preconditions
    checked, each on its day and nothing between (patch `quiet-case-2026-12`); then paid in
    full."""
    await morning(harness.env)
    handle = await harness.start(dpd=5, outstanding=300_000, overdue=90_000)
    await harness.sleep_days(100)
    await pay(handle, 300_000, "BANK-Q")
    await handle.result()
    return [("", await handle.fetch_history())]


async def collector_workspace(harness: CaseHarness) -> Recorded:
    """The collector's workspace: a call task assigned by a supervisor, a click-to-call
    refused at night and placed in the morning, a wrong number planning a field visit, the
    visit booked, checked in to and out of, and reported with a promise; then paid in full."""
    await morning(harness.env)
    handle = await harness.start(dpd=40, outstanding=300_000, overdue=120_000)
    await harness.sleep_days(0.1)
    call = next(t for t in (await handle.query(Case.status)).open_tasks)
    await handle.execute_update(Case.assign_task, AssignTaskInput(call.key, "ann.li", "zh"))
    await morning(harness.env, hour=22)
    bridge = PlaceCallInput(call.key, "ann.li", "+8613800000001")
    await handle.execute_update(Case.place_call, bridge)  # refused: night in Shanghai
    await morning(harness.env)
    await handle.execute_update(Case.place_call, bridge)
    wrong = CompleteTaskInput(call.key, "ann.li", TaskOutcome.WRONG_NUMBER, call_seconds=40)
    await handle.execute_update(Case.complete_task, wrong)
    visit = next(t for t in (await handle.query(Case.status)).open_tasks)
    tomorrow = await harness.today() + timedelta(days=1)
    pair = ("ann.li", "bo.chen")
    slot = VisitSlotInput(visit.key, tomorrow, time(14), time(16), pair)
    await handle.execute_update(Case.book_visit, slot)
    await harness.sleep_until(datetime.combine(tomorrow, time(14, 10), ZoneInfo("Asia/Shanghai")))
    await handle.execute_update(Case.check_in_visit, VisitCheckInput(visit.key, "bo.chen"))
    await harness.sleep_days(1 / 24)
    await handle.execute_update(Case.check_out_visit, VisitCheckInput(visit.key, "bo.chen"))
    report = CompleteTaskInput(
        visit.key,
        "bo.chen",
        TaskOutcome.PROMISE_MADE,
        promised_amount_minor=120_000,
        promised_date=tomorrow + timedelta(days=3),
        visit=FieldVisitReport(pair, consent_to_enter=True),
        right_party=True,
    )
    await handle.execute_update(Case.complete_task, report)
    await harness.sleep_days(2)
    await pay(handle, 300_000, "BANK-W")
    await handle.result()
    return [("", await handle.fetch_history())]


@contextlib.asynccontextmanager
async def _in_hardship(harness: CaseHarness, reason: str) -> AsyncGenerator[tuple[Handle, str]]:
    """A case a day old whose customer reported hardship, with the risk queue served: the
    case's handle and its review's id."""
    await morning(harness.env)
    services = Services(db=harness.db, sender=OutboxSender())
    settings = test_settings(harness.queue)
    async with build_worker(harness.client, settings, settings.task_queues.risk, services):
        handle = await harness.start(dpd=10, outstanding=150_000, overdue=60_000)
        await harness.sleep_days(1)
        await handle.execute_update(Case.report_hardship, ReasonInput(reason=reason))
        yield handle, (await handle.query(Case.status)).risk_review or ""


async def hardship_handoff(harness: CaseHarness) -> Recorded:
    """Hardship hands the case to the risk department: a review as a child workflow on the
    risk queue, which decides a forbearance and tells the case by signal; after it, the
    balance is paid in full. The case's history and the review's."""
    async with _in_hardship(harness, "lost job in March") as (handle, review_id):
        await harness.sleep_days(1)
        review = harness.client.get_workflow_handle_for(RiskReviewWorkflow.run, review_id)
        decision = RiskDecision(
            kind=RiskDecisionKind.FORBEARANCE,
            decided_by="risk-officer-2",
            reason="income expected next month",
            forbearance_until=await harness.today() + timedelta(days=3),
        )
        await review.execute_update(RiskReviewWorkflow.decide, decision)
        await review.result()
        await harness.sleep_days(5)
        await pay(handle, 150_000, "BANK-5")
        await handle.result()
    return [("case", await handle.fetch_history()), ("review", await review.fetch_history())]


async def paid_at_night_in_review(harness: CaseHarness) -> Recorded:
    """Hardship hands the case to the risk department; at 23:00 in the customer's time zone,
    before any decision, the balance is paid in full: the case is written closed and the
    review cancelled at once, and the closing text waits for 08:00. Both histories."""
    async with _in_hardship(harness, "lost job in May") as (handle, review_id):
        await harness.sleep_until_local(23)
        await pay(handle, 150_000, "BANK-23")
        await handle.result()
        review = harness.client.get_workflow_handle_for(RiskReviewWorkflow.run, review_id)
        with contextlib.suppress(Exception):  # it ends cancelled
            await review.result()
    return [("case", await handle.fetch_history()), ("review", await review.fetch_history())]


async def retention_erases_a_closed_case(harness: CaseHarness) -> Recorded:
    """A case closed by hand, then, over a year later, the retention workflow (with a one-year
    period) erasing its personal data from the read model: the retention run's history."""
    handle = await harness.start()
    await handle.execute_update(Case.close, CloseInput(ClosureReason.MANUAL, "moved away"))
    await handle.result()
    await harness.sleep_days(400)
    retention = await harness.client.start_workflow(
        RetentionWorkflow.run,
        RetentionInput(years=1),
        id="retention-recorded",
        task_queue=harness.queue,
    )
    await retention.result()
    return [("", await retention.fetch_history())]


async def daily_intake_loads_a_file(harness: CaseHarness) -> Recorded:
    """The daily intake over a drop folder holding one file, two good rows around a bad one:
    the folder scanned, the file loaded (two cases started, the bad row to the errors file),
    the run's report. On a worker and queue of its own whose folders are relative to a scratch
    directory, so the history names no machine's path; and, its contracts carrying no row's
    content, the history holds none of the file's names or numbers (checked)."""
    queue = f"{harness.queue}-intake"
    _, text = overdue_file()
    with tempfile.TemporaryDirectory() as scratch, contextlib.chdir(scratch):
        settings = intake_settings(queue, Path())
        drop(settings.intake_drop_dir / "overdue-20261204.csv", text)
        services = Services(db=harness.db, sender=OutboxSender())
        async with build_worker(harness.client, settings, queue, services):
            # The cases it starts have timers: the clock stands still meanwhile.
            with harness.env.auto_time_skipping_disabled():
                intake = await harness.client.start_workflow(
                    DailyIntakeWorkflow.run,
                    DailyIntakeInput(),
                    id="daily-intake-recorded",
                    task_queue=queue,
                )
                [report] = (await intake.result()).loaded
    assert (report.rows, report.started, report.rejected) == (3, 2, 1), report
    history = await intake.fetch_history()
    personal = ("account_no", "customer_ref", "customer_name", "mobile")
    cells = {row[k] for row in csv.DictReader(text.splitlines()) for k in personal}
    payloads = _payloads(history)
    leaked = sorted(cell for cell in cells if cell and cell in payloads)
    assert not leaked, f"the intake's history holds {len(leaked)} of the file's personal cells"
    return [("", history)]


def _payloads(history: WorkflowHistory) -> str:
    """Every payload of `history`, decoded, as anyone reading its file could."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "metadata" in node and isinstance(node.get("data"), str):
                found.append(base64.b64decode(node["data"]).decode("utf-8", "replace"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(history.to_json()))
    return "\n".join(found)


def _runs(client: Client, workflow_id: str, first: str) -> list[Handle]:
    return [
        client.get_workflow_handle(workflow_id, run_id=first),
        client.get_workflow_handle(workflow_id),
    ]


SCENARIOS: dict[str, Scenario] = {
    "promise_pause_payment": promise_pause_payment,
    "dispute_and_collector": dispute_and_collector,
    "retries_and_new_run": retries_and_new_run,
    "quiet_case": quiet_case,
    "hardship_handoff": hardship_handoff,
    "paid_at_night_in_review": paid_at_night_in_review,
    "retention_erases_a_closed_case": retention_erases_a_closed_case,
    "daily_intake_loads_a_file": daily_intake_loads_a_file,
    "collector_workspace": collector_workspace,
}


def file_name(scenario: str, part: str) -> str:
    return f"{scenario}.{part}.json" if part else f"{scenario}.json"


async def record(names: list[str], folder: Path = HERE) -> list[Path]:
    """Runs each scenario on a fresh time-skipping server and writes its histories."""
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as scratch, FakeTwilio() as fake:
        url = f"sqlite+aiosqlite:///{Path(scratch) / 'collections.db'}"
        await asyncio.to_thread(migrate, url)
        db = Database(url)
        sender = twilio_sender(fake)
        try:
            for name in names:
                for part, history in await _record_with_retries(name, fake, db, sender):
                    written.append(folder / file_name(name, part))
                    write_history(history, written[-1])
        finally:
            await sender.aclose()
            await db.dispose()
    return written


async def _record_with_retries(
    name: str, fake: FakeTwilio, db: Database, sender: Sender, tries: int = 5
) -> Recorded:
    """The Java time-skipping server now and then rejects a workflow task's completion
    ("invalid history builder state for action") around a child's completion and the signal
    it sends, and then stalls until an RPC times out; a fresh server records it cleanly."""
    for attempt in range(1, tries + 1):
        try:
            return await _record_one(name, fake, db, sender)
        except RPCError as exc:
            if attempt == tries:
                raise
            sys.stderr.write(f"{name}: the test server stalled ({exc}); recording again\n")
    raise AssertionError("unreachable")


async def _record_one(name: str, fake: FakeTwilio, db: Database, sender: Sender) -> Recorded:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(),  # no codec: the files must replay without a key
        test_server_existing_path=installed_binary("temporal-test-server"),
    )
    try:
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=env.client.namespace,
                search_attributes={
                    key.name: IndexedValueType.ValueType(key.indexed_value_type) for key in ALL_KEYS
                },
            )
        )
        harnesses = cast(
            AsyncGenerator[CaseHarness, None],
            running_harness(env, f"record-{name}", fake, db, sender),
        )
        async with contextlib.aclosing(harnesses):  # closing it stops the worker
            return await SCENARIOS[name](await anext(harnesses))
    finally:
        await env.shutdown()


def main(argv: list[str]) -> int:
    os.chdir(PROJECT_ROOT)  # the short-history policy is named by a relative path
    # The scenarios' read model seals personal fields, as every process does: a throwaway key.
    sealing.configure(sealing.DataKeys([("record-1", bytes(32))]))
    unknown = sorted(set(argv) - set(SCENARIOS))
    if unknown:
        sys.stderr.write(f"unknown scenario {', '.join(unknown)}; known: {', '.join(SCENARIOS)}\n")
        return 2
    for path in asyncio.run(record(argv or list(SCENARIOS))):
        sys.stdout.write(f"wrote {path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
