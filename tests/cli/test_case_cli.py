"""`collections case`: the real case workflow on the time-skipping server, driven through the
commands' async cores with the test's client and database (the typer layer leaves through
`os._exit`, so only its usage errors and help, printed before it connects, are invoked here).

What a front end shows of a case's state, or sends it, is tested against `StandInCase` too: a
workflow of the case's name that answers its queries with a given status and keeps the
payments it is sent, so the status's every field is shown whatever the case's rules do."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rich.console import Console
from temporalio import workflow
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from typer.testing import CliRunner

from activities.messaging.senders import OutboxSender
from cli import case as case_cli
from cli.actions import CommandEnv, run_command
from cli.main import app
from config.settings import Settings
from models.case_status import CaseStatus, NextAction, PlanInstalmentView
from models.contracts import (
    ActionResult,
    CaseInput,
    CloseInput,
    ClosureReason,
    ReasonInput,
    RecordPaymentInput,
    Stage,
    TimelineEvent,
)
from models.strategy import Segment
from models.visibility import CASE_STAGE, DAYS_PAST_DUE
from operations.gateway import Gateway
from readmodel.engine import Database
from tests.fakes.twilio_api import FakeTwilio
from tests.workflows import harness as workflow_harness
from tests.workflows.harness import CaseHarness, case_worker
from tests.workflows.harness import test_settings as settings_for
from workflows.case import CollectionCaseWorkflow as Case

# The case harness's fixtures: the real case worker, Twilio faked, a SQLite read model.
fake_twilio = workflow_harness.fake_twilio
harness = workflow_harness.harness
sqlite_db = workflow_harness.sqlite_db

Core = Callable[[CommandEnv], Awaitable[int]]
MOBILE = "+8613912345678"


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass(frozen=True)
class Cli:
    """Runs a command's core as the CLI would, around the test's own client and database."""

    client: Client
    db: Database
    settings: Settings

    async def __call__(self, core: Core, *, json_output: bool = False, tty: bool = False) -> Ran:
        out, err = io.StringIO(), io.StringIO()

        async def connect(_: Settings) -> Gateway:
            return Gateway(self.client, answer_within=self.settings.answer_timeout_seconds)

        env = CommandEnv(
            self.settings,
            json_output=json_output,
            out=Console(file=out, width=200, force_terminal=tty),
            err=Console(file=err, width=200),
            connect=connect,
            db=self.db,
        )
        code = await run_command(env, core)
        return Ran(code, out.getvalue(), err.getvalue())


def cli_for(harness: CaseHarness) -> Cli:
    return Cli(harness.client, harness.db, settings_for(harness.queue))


def flags(account_no: str, **changes: str) -> dict[str, str]:
    values = {
        "account_no": account_no,
        "customer_ref": "CUST778899",
        "customer_name": "Li Wei",
        "mobile": MOBILE,
        "language": "zh-CN",
        "time_zone": "Asia/Shanghai",
        "product": "card",
        "currency": "CNY",
        "outstanding_minor": "500000",
        "overdue_minor": "120000",
        "oldest_due_date": "2026-10-01",
        "strategy": "",
    }
    return {**values, **changes}


def new_account() -> str:
    return f"AC{uuid.uuid4().int % 10**12:012d}"


async def started(harness: CaseHarness, *, dpd: int = 5) -> str:
    """A running, assessed case; its account number."""
    handle = await harness.start(dpd=dpd)
    await harness.sleep_days(0.1)
    return handle.id.removeprefix("case-")


@dataclass(frozen=True)
class StandInStart:
    status: CaseStatus
    timeline: tuple[TimelineEvent, ...] = ()


@workflow.defn(name="CollectionCase", sandboxed=False)
class StandInCase:
    """Answers `status` and `timeline` as it was started, and keeps the payments it is sent."""

    @workflow.init
    def __init__(self, start: StandInStart) -> None:
        self._start = start
        self._payments: list[RecordPaymentInput] = []

    @workflow.run
    async def run(self, start: StandInStart) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.query
    def status(self) -> CaseStatus:
        return self._start.status

    @workflow.query
    def timeline(self) -> list[TimelineEvent]:
        return list(self._start.timeline)

    @workflow.update
    def record_payment(self, req: RecordPaymentInput) -> ActionResult:
        self._payments.append(req)
        return ActionResult(True, f"payment {req.payment_ref} taken", self._start.status.stage)

    @workflow.query
    def payments(self) -> list[RecordPaymentInput]:
        return list(self._payments)


def after_a_risk_decision(account_no: str, **changes: Any) -> CaseStatus:
    """A case on a payment plan whose first instalment was paid with more than it asked."""
    values: dict[str, Any] = {
        "case_id": f"case-{account_no}",
        "account_no": account_no,
        "stage": Stage.COLLECTOR,
        "segment": Segment.MEDIUM,
        "score": 540,
        "strategy_version": "default v1",
        "days_past_due": 40,
        "currency": "CNY",
        "outstanding_minor": 300_000,
        "overdue_minor": 100_000,
        "paid_minor": 200_000,
        "next_action": "check the plan's next instalment",
        "next_action_at": datetime(2026, 12, 1, 1, tzinfo=UTC),
        "open_promise": None,
        "promises_kept": 0,
        "promises_broken": 0,
        "contacts_sent": 3,
        "contacts_refused": 1,
        "opted_out": (),
        "paused": False,
        "dispute_open": False,
        "closed_reason": None,
        "next_action_kind": NextAction.INSTALMENT,
        "forbearance_until": date(2026, 11, 15),
        "plan_status": "active",
        "plan": (
            PlanInstalmentView(date(2026, 11, 1), 100_000, 100_000, "paid"),
            PlanInstalmentView(date(2026, 12, 1), 150_000, 0, "due"),
        ),
        "overpaid_minor": 12_345,
    }
    return CaseStatus(**{**values, **changes})


@dataclass
class StandIns:
    client: Client
    queue: str
    started: list[str] = field(default_factory=list)

    async def start(self, start: StandInStart) -> str:
        """A stand-in for the case of `start`'s account; its account number."""
        handle = await self.client.start_workflow(
            StandInCase.run, start, id=start.status.case_id, task_queue=self.queue
        )
        self.started.append(handle.id)
        return start.status.account_no

    async def payments(self, account_no: str) -> list[RecordPaymentInput]:
        handle = self.client.get_workflow_handle_for(StandInCase.run, f"case-{account_no}")
        return await handle.query(StandInCase.payments)


@contextlib.asynccontextmanager
async def stand_ins(client: Client, queue: str) -> AsyncIterator[StandIns]:
    """A worker for stand-in cases on `queue`; they are terminated on the way out."""
    async with Worker(client, task_queue=queue, workflows=[StandInCase]):
        found = StandIns(client, queue)
        try:
            yield found
        finally:
            for workflow_id in found.started:
                with contextlib.suppress(Exception):
                    await client.get_workflow_handle(workflow_id).terminate()


runner = CliRunner()


def test_start_flags_are_checked_as_intake_checks_a_row_without_temporal() -> None:
    result = runner.invoke(
        app,
        ["case", "start", "--account-no", "12", "--mobile", "138 0013 8000", "--currency", "XX"],
    )

    assert result.exit_code == 1
    assert "--account-no: must be 6 to 34 letters and digits" in result.stderr
    assert "--mobile: mobile is not E.164 (+ and 8 to 15 digits, no spaces)" in result.stderr
    assert "--currency: unknown currency (use an ISO 4217 code such as CNY)" in result.stderr
    assert "--customer-ref: is missing" in result.stderr
    assert "138 0013 8000" not in result.output  # a value is never repeated

    result = runner.invoke(app, ["case", "start", "--json", "--outstanding-minor", "12.5"])
    document = json.loads(result.stdout)
    assert result.exit_code == 1 and document["exit_code"] == 1
    assert {"field": "outstanding_minor", "reason": "is not a whole number of minor units"} in (
        document["rejected"]
    )


def test_action_flags_outside_their_choices_are_usage_errors() -> None:
    result = runner.invoke(app, ["case", "close", "A123456", "--reason", "paid", "--note", "x"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["case", "opt-out", "A123456", "--channel", "email"])
    assert result.exit_code == 2


async def test_start_starts_one_case_and_a_second_start_is_a_conflict(
    harness: CaseHarness,
) -> None:
    cli = cli_for(harness)
    account = new_account()
    today = await harness.today()
    case, errors = case_cli.case_from_flags(
        flags(account, oldest_due_date=str(today - timedelta(days=10))), as_of=today
    )
    assert errors == [] and isinstance(case, CaseInput)

    ran = await cli(lambda env: case_cli.start_case(env, case), json_output=True)

    assert ran.code == 0
    assert ran.json() == {"case_id": f"case-{account}", "account_no": account, "exit_code": 0}
    ran = await cli(lambda env: case_cli.start_case(env, case))
    assert ran.code == 4
    assert f"a case for account {account} is already running (case-{account})" in ran.err


async def test_status_shows_the_case_with_the_customer_masked(harness: CaseHarness) -> None:
    cli = cli_for(harness)
    handle = await harness.start(dpd=12, mobile=MOBILE)
    await harness.sleep_days(0.1)
    account = handle.id.removeprefix("case-")

    ran = await cli(lambda env: case_cli.show_status(env, account))

    assert ran.code == 0, ran.err
    lines = dict(line.split("\t", 1) for line in ran.out.splitlines())
    assert lines["stage"] == "early"
    assert lines["outstanding"] == "5,000.00 CNY"
    assert lines["mobile masked"] == "+86*******5678"
    assert lines["name masked"] == "张*"
    assert MOBILE not in ran.out and "张伟" not in ran.out

    ran = await cli(lambda env: case_cli.show_status(env, account), json_output=True)
    document = ran.json()
    assert document["status"]["stage"] == "early" and document["status"]["days_past_due"] >= 12
    assert document["customer"]["mobile_masked"] == "+86*******5678"

    ran = await cli(lambda env: case_cli.show_status(env, account), tty=True)
    assert ran.code == 0 and "days past due" in ran.out

    ran = await cli(lambda env: case_cli.show_timeline(env, account))
    assert ran.out.startswith("at\tkind\tdetail\tby\n")
    assert "\topened\tstrategy " in ran.out


async def test_an_action_from_the_command_line_names_who_took_it(harness: CaseHarness) -> None:
    def as_(actor: str) -> Cli:
        settings = dataclasses.replace(settings_for(harness.queue), cli_actor=actor)
        return Cli(harness.client, harness.db, settings)

    zhao, qian = as_("zhao.min"), as_("qian.li")  # two collectors at their own shells
    account = await started(harness)
    paused = await zhao(
        lambda env: case_cli.act(env, account, Case.pause, ReasonInput(reason="asked"))
    )
    assert paused.code == 0, paused.err
    resumed = await qian(
        lambda env: case_cli.act(env, account, Case.resume, ReasonInput(reason="called back"))
    )
    assert resumed.code == 0, resumed.err
    ran = await zhao(lambda env: case_cli.show_timeline(env, account), json_output=True)
    by = {(e["kind"], e["by"]) for e in ran.json()["events"]}
    assert ("paused", "zhao.min (cli)") in by and ("resumed", "qian.li (cli)") in by
    assert ("opened", "workflow") in by


async def test_an_action_is_taken_and_a_bad_one_is_refused_with_the_cases_message(
    harness: CaseHarness,
) -> None:
    cli = cli_for(harness)
    account = await started(harness)

    def pay(amount: int, ref: str) -> Core:
        req = RecordPaymentInput(amount_minor=amount, currency="CNY", payment_ref=ref)
        return lambda env: case_cli.act(env, account, Case.record_payment, req)

    ran = await cli(pay(20_000, "BANK-1"))
    assert ran.code == 0
    assert ran.out.strip() == "payment recorded; outstanding 4,800.00 CNY (stage early)"

    ran = await cli(pay(0, "BANK-2"), json_output=True)
    assert ran.code == 1
    assert "refused: amount must be positive and at most 9223372036854775807, got 0" in ran.err
    assert ran.json() == {
        "error": "refused: amount must be positive and at most 9223372036854775807, got 0",
        "exit_code": 1,
    }

    ran = await cli(pay(20_000, "BANK-1"))  # the same reference again: nothing changes
    assert ran.code == 1 and "not accepted: payment BANK-1 was already recorded" in ran.err

    pause = ReasonInput(reason="customer in hospital")
    ran = await cli(lambda env: case_cli.act(env, account, Case.pause, pause))
    assert ran.code == 0
    ran = await cli(lambda env: case_cli.act(env, account, Case.pause, pause))
    assert ran.code == 1 and "refused: case is already paused" in ran.err

    status = await cli(lambda env: case_cli.show_status(env, account), json_output=True)
    assert status.json()["status"]["paid_minor"] == 20_000
    timeline = await cli(lambda env: case_cli.show_timeline(env, account, last=3))
    assert "\tpaused\tcustomer in hospital" in timeline.out


async def test_status_shows_the_forbearance_the_plan_and_an_overpayment(
    ts_env: WorkflowEnvironment, task_queue: str, sqlite_db: Database
) -> None:
    cli = Cli(ts_env.client, sqlite_db, settings_for(task_queue))
    async with stand_ins(ts_env.client, task_queue) as cases:
        account = await cases.start(StandInStart(after_a_risk_decision(new_account())))

        ran = await cli(lambda env: case_cli.show_status(env, account))

        assert ran.code == 0, ran.err
        lines = dict(line.split("\t", 1) for line in ran.out.splitlines())
        assert lines["forbearance until"] == "2026-11-15"
        assert lines["payment plan"] == "active"
        assert lines["instalment 2026-11-01"] == "1,000.00 CNY, 1,000.00 CNY paid, paid"
        assert lines["instalment 2026-12-01"] == "1,500.00 CNY, 0.00 CNY paid, due"
        assert lines["overpaid"] == "123.45 CNY"

        ran = await cli(lambda env: case_cli.show_status(env, account), json_output=True)
        shown = ran.json()["status"]
        assert shown["forbearance_until"] == "2026-11-15"
        assert shown["plan_status"] == "active" and shown["overpaid_minor"] == 12_345
        assert shown["next_action_kind"] == "instalment"
        assert shown["plan"][1] == {
            "due_date": "2026-12-01",
            "amount_minor": 150_000,
            "paid_minor": 0,
            "status": "due",
        }

        ran = await cli(lambda env: case_cli.show_status(env, account), tty=True)
        assert ran.code == 0 and "instalment 2026-12-01" in ran.out


async def test_status_without_a_plan_shows_dashes(
    ts_env: WorkflowEnvironment, task_queue: str, sqlite_db: Database
) -> None:
    """A case started before the plan was shown, or never decided on by risk."""
    cli = Cli(ts_env.client, sqlite_db, settings_for(task_queue))
    plain = after_a_risk_decision(
        new_account(), forbearance_until=None, plan_status="", plan=(), overpaid_minor=0
    )
    async with stand_ins(ts_env.client, task_queue) as cases:
        account = await cases.start(StandInStart(plain))
        ran = await cli(lambda env: case_cli.show_status(env, account))
    lines = dict(line.split("\t", 1) for line in ran.out.splitlines())
    assert (lines["forbearance until"], lines["payment plan"]) == ("-", "-")
    assert lines["overpaid"] == "0.00 CNY"
    assert not [name for name in lines if name.startswith("instalment")]


def test_record_payment_takes_an_overpayment_flag() -> None:
    result = runner.invoke(app, ["case", "record-payment", "--help"])
    assert result.exit_code == 0 and "--overpayment" in result.output


async def test_the_overpayment_flag_reaches_the_case_in_its_payment(
    ts_env: WorkflowEnvironment, task_queue: str, sqlite_db: Database
) -> None:
    cli = Cli(ts_env.client, sqlite_db, settings_for(task_queue))
    async with stand_ins(ts_env.client, task_queue) as cases:
        account = await cases.start(StandInStart(after_a_risk_decision(new_account())))

        def pay(req: RecordPaymentInput) -> Core:
            return lambda env: case_cli.act(env, account, Case.record_payment, req)

        for ref, overpayment in (("BANK-9", True), ("BANK-10", False)):
            ran = await cli(
                pay(case_cli.payment_input(900_000, "cny", ref, overpayment=overpayment))
            )
            assert ran.code == 0, ran.err
        taken = await cases.payments(account)
    assert [(p.payment_ref, p.currency, p.overpayment) for p in taken] == [
        ("BANK-9", "CNY", True),
        ("BANK-10", "CNY", False),
    ]


async def test_an_unknown_account_is_not_found(harness: CaseHarness) -> None:
    cli = cli_for(harness)
    pause = ReasonInput(reason="why not")

    ran = await cli(lambda env: case_cli.act(env, "NOSUCH000001", Case.pause, pause))
    assert ran.code == 3 and "no case for account NOSUCH000001" in ran.err
    ran = await cli(lambda env: case_cli.show_status(env, "NOSUCH000001"), json_output=True)
    assert ran.code == 3 and ran.json()["exit_code"] == 3


async def test_a_closed_case_is_a_conflict(harness: CaseHarness) -> None:
    cli = cli_for(harness)
    account = await started(harness)
    close = CloseInput(reason=ClosureReason.MANUAL, note="moved to another system")
    pause = ReasonInput(reason="too late")

    ran = await cli(lambda env: case_cli.act(env, account, Case.close, close))
    assert ran.code == 0 and "case closed as manual" in ran.out
    ran = await cli(lambda env: case_cli.act(env, account, Case.pause, pause))
    assert ran.code == 4  # refused by the closing case, or the workflow has finished
    await harness.client.get_workflow_handle(f"case-{account}").result()
    ran = await cli(lambda env: case_cli.act(env, account, Case.pause, pause))
    assert ran.code == 4 and f"the case for account {account} has finished (completed)" in ran.err


async def test_unreachable_temporal_exits_2(sqlite_db: Database) -> None:
    async def unreachable(_: Settings) -> Gateway:
        raise RuntimeError("connection refused")

    err = io.StringIO()
    env = CommandEnv(
        settings_for("nowhere"), err=Console(file=err), connect=unreachable, db=sqlite_db
    )
    code = await run_command(env, lambda e: case_cli.show_status(e, "A123456"))
    assert code == 2 and "Temporal is unreachable at 127.0.0.1:7233" in err.getvalue()


def test_the_visibility_query_names_the_case_type_and_the_filters() -> None:
    assert case_cli.visibility_query(Stage.COLLECTOR, Segment.HIGH, 40) == (
        "WorkflowType = 'CollectionCase' AND ExecutionStatus != 'ContinuedAsNew' "
        "AND CaseStage = 'collector' AND CaseSegment = 'high' AND DaysPastDue >= 40"
    )


async def test_list_finds_cases_by_stage_and_days_past_due(
    dev_env: WorkflowEnvironment, sqlite_db: Database, task_queue: str, fake_twilio: FakeTwilio
) -> None:
    """The time-skipping server has no visibility: the dev server's does."""
    async with case_worker(dev_env, task_queue, sqlite_db, OutboxSender()):
        harness = CaseHarness(env=dev_env, queue=task_queue, fake=fake_twilio, db=sqlite_db)
        late, early = await harness.start(dpd=45), await harness.start(dpd=3)
        cli = cli_for(harness)
        try:
            for _ in range(50):
                ran = await cli(
                    lambda env: case_cli.list_cases(env, stage=Stage.COLLECTOR, min_dpd=45),
                    json_output=True,
                )
                found = {c["case_id"]: c for c in ran.json()["cases"]}
                if late.id in found:
                    break
                await asyncio.sleep(0.2)
            assert found[late.id]["stage"] == "collector"
            assert found[late.id]["days_past_due"] >= 45
            assert early.id not in found
        finally:
            await late.terminate()
            await early.terminate()


async def test_list_takes_a_typed_search_in_days_past_due_for_old_and_new_runs(
    dev_env: WorkflowEnvironment, sqlite_db: Database, task_queue: str, fake_twilio: FakeTwilio
) -> None:
    """`DaysPastDue > 44` as the README writes it: asked of a case's `OldestDueDate`, and of
    the `DaysPastDue` a run from before the quiet case still rewrites (here one started with
    only that, on a queue no worker polls)."""
    async with case_worker(dev_env, task_queue, sqlite_db, OutboxSender()):
        harness = CaseHarness(env=dev_env, queue=task_queue, fake=fake_twilio, db=sqlite_db)
        late, early = await harness.start(dpd=45), await harness.start(dpd=3)
        old = await dev_env.client.start_workflow(
            "CollectionCase",
            id=f"case-OLD{uuid.uuid4().hex[:8]}",
            task_queue=f"{task_queue}-nobody",
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(CASE_STAGE, "collector"),
                    SearchAttributePair(DAYS_PAST_DUE, 50),
                ]
            ),
        )
        cli = cli_for(harness)

        async def listed(query: str) -> dict[str, Any]:
            ran = await cli(lambda env: case_cli.list_cases(env, query=query), json_output=True)
            assert ran.code == 0, ran.err
            return {c["case_id"]: c for c in ran.json()["cases"]}

        try:
            for _ in range(50):
                found = await listed("CaseStage = 'collector' AND DaysPastDue > 44")
                if {late.id, old.id} <= set(found):
                    break
                await asyncio.sleep(0.2)
            assert {late.id, old.id} <= set(found) and early.id not in found
            assert found[late.id]["days_past_due"] == 45 and found[old.id]["days_past_due"] == 50
            found = await listed("DaysPastDue BETWEEN 0 AND 10")
            assert early.id in found and late.id not in found and old.id not in found

            ran = await cli(
                lambda env: case_cli.list_cases(env, query="DaysPastDue IN (1, 2)"),
                json_output=True,
            )
            assert ran.code == 2 and "compare DaysPastDue with a whole number" in ran.err
        finally:
            for handle in (late, early, old):
                await handle.terminate()
