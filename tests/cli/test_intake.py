"""`collections intake`: the real case workflow on the time-skipping server, started from files."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from rich.console import Console
from temporalio import workflow
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from typer.testing import CliRunner

from activities.messaging.senders import OutboxSender
from cli.intake import IntakeOptions, policy_names, start_cases
from cli.main import app
from config.settings import POLICY_DIR, PROJECT_ROOT, Settings, TaskQueues, load_settings
from config.strategy import Assessor
from models.contracts import CaseInput
from models.intake import ParsedIntake, parse_intake
from operations.gateway import Gateway
from operations.intake import Outcome, run_intake
from readmodel.engine import Database
from workers.main import Services, build_worker
from workflows.case import CollectionCaseWorkflow

AS_OF = date(2026, 11, 28)
ERRORS_FILE = PROJECT_ROOT / "examples" / "overdue-with-errors.csv"
GOOD_ROWS = [2, 18, 19]


def settings_for(queue: str) -> Settings:
    base = load_settings(environ={}, env_file=Path("/nonexistent"))
    return dataclasses.replace(base, task_queues=TaskQueues(collections=queue))


def errors_file(tmp_path: Path) -> tuple[Path, dict[int, str]]:
    """The errors example with account numbers of this test's own, and those of its good rows."""
    token = uuid.uuid4().int % 10**10
    text = re.sub(r"\b(PL|CC|AL)10{9}", lambda m: f"{m[1]}{token:010d}", ERRORS_FILE.read_text())
    path = tmp_path / "overdue.csv"
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    return path, {row: lines[row - 1].split(",")[0] for row in GOOD_ROWS}


def parse_file(path: Path) -> ParsedIntake:
    text = path.read_text(encoding="utf-8")
    return parse_intake(text, as_of=AS_OF, strategies=policy_names())


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "collections.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def worker(
    ts_env: WorkflowEnvironment, task_queue: str, sqlite_url: str
) -> AsyncIterator[Worker]:
    db = Database(sqlite_url)
    services = Services(db=db, sender=OutboxSender())
    async with build_worker(ts_env.client, settings_for(task_queue), task_queue, services) as w:
        yield w
    await db.dispose()


async def intake(
    client: Client, path: Path, queue: str, *, json_output: bool = False
) -> tuple[int, str]:
    parsed = parse_file(path)
    out, err = io.StringIO(), io.StringIO()

    async def connect(_: Settings) -> Gateway:
        return Gateway(client)

    code = await start_cases(
        parsed,
        settings=settings_for(queue),
        file_label=str(path),
        options=IntakeOptions(task_queue=queue, json_output=json_output),
        out=Console(file=out, width=200),
        err=Console(file=err, width=200),
        connect=connect,
    )
    return code, out.getvalue()


async def until_assessed(client: Client, workflow_id: str) -> None:
    """The case answers `status` once its assessment is done."""
    handle = client.get_workflow_handle_for(CollectionCaseWorkflow.run, workflow_id)
    for _ in range(100):
        try:
            await handle.query(CollectionCaseWorkflow.status)
            return
        except Exception:
            await asyncio.sleep(0.1)
    raise AssertionError(f"{workflow_id} was never assessed")


async def test_good_rows_start_bad_rows_are_reported_and_a_rerun_starts_nothing(
    ts_env: WorkflowEnvironment, worker: Worker, task_queue: str, tmp_path: Path
) -> None:
    path, accounts = errors_file(tmp_path)

    code, output = await intake(ts_env.client, path, task_queue)

    assert code == 1  # rows rejected, the others started
    assert "3\tcustomer_ref\tis missing" in output
    assert "16\tcolumns\texpected 12 columns, found 9" in output
    for row in range(3, 18):
        assert re.search(rf"^{row}\t", output, re.MULTILINE), f"row {row} not reported"
    assert output.strip().endswith("started 3, already running 0, rejected 15")
    for account_no in accounts.values():
        described = await ts_env.client.get_workflow_handle(f"case-{account_no}").describe()
        assert described.status is WorkflowExecutionStatus.RUNNING
        await until_assessed(ts_env.client, f"case-{account_no}")

    code, output = await intake(ts_env.client, path, task_queue, json_output=True)

    assert code == 1
    document = json.loads(output)
    assert document["started"] == []
    assert [(c["row"], c["account_no"], c["refreshed"]) for c in document["already_running"]] == [
        (row, accounts[row], True) for row in GOOD_ROWS
    ]
    assert len(document["rejected"]) == 15
    assert document["exit_code"] == 1
    case = ts_env.client.get_workflow_handle_for(CollectionCaseWorkflow.run, f"case-{accounts[2]}")
    timeline = await case.query(CollectionCaseWorkflow.timeline)
    assert "balances_refreshed" not in [event.kind for event in timeline]  # same balances

    # Tomorrow's file shows a smaller balance: the running case takes it.
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    cells[8], cells[9] = str(int(cells[8]) - 100), str(int(cells[9]) - 100)
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    await intake(ts_env.client, path, task_queue, json_output=True)
    status = await case.query(CollectionCaseWorkflow.status)
    assert status.outstanding_minor == int(cells[8])
    timeline = await case.query(CollectionCaseWorkflow.timeline)
    assert "balances_refreshed" in [event.kind for event in timeline]


# A stand-in for the case: it runs until told to finish and has no refresh_account update.
@workflow.defn(name="CollectionCase", sandboxed=False)
class StandInCase:
    def __init__(self) -> None:
        self._done = False

    @workflow.run
    async def run(self, case: CaseInput) -> None:
        await workflow.wait_condition(lambda: self._done)

    @workflow.signal
    def finish(self) -> None:
        self._done = True


def sample_rows(count: int) -> list[tuple[int, CaseInput]]:
    text = (PROJECT_ROOT / "examples" / "overdue-sample.csv").read_text(encoding="utf-8")
    token = uuid.uuid4().hex[:8].upper()
    rows = parse_intake(text, as_of=AS_OF).valid[:count]
    return [
        (
            row,
            dataclasses.replace(
                case,
                account=dataclasses.replace(
                    case.account, account_no=f"T{token}{case.account.account_no}"
                ),
            ),
        )
        for row, case in rows
    ]


async def test_running_cases_are_not_started_twice_and_closed_ones_start_again(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = ts_env.client
    rows = sample_rows(20)
    heard: list[int] = []
    async with Worker(client, task_queue=task_queue, workflows=[StandInCase]):
        first = await run_intake(
            Gateway(client),
            iter(rows),
            task_queue=task_queue,
            concurrency=4,
            on_progress=lambda o: heard.append(o.row),
        )
        assert [o.row for o in first.started] == [row for row, _ in rows]
        assert sorted(heard) == [row for row, _ in rows]

        second = await run_intake(Gateway(client), rows, task_queue=task_queue, concurrency=4)
        assert second.started == ()
        assert len(second.already_running) == 20
        # A worker without the update: one note for every row (no workflow id in it).
        assert {o.note for o in second.warnings} == {
            "balances not refreshed: failed the action (RuntimeError)"
        }

        closed = client.get_workflow_handle(first.started[0].workflow_id)
        await closed.signal(StandInCase.finish)
        await closed.result()

        third = await run_intake(Gateway(client), rows, task_queue=task_queue, refresh=False)
        assert [o.row for o in third.started] == [rows[0][0]]
        assert len(third.already_running) == 19
        assert third.warnings == ()
        assert {o.outcome for o in third.outcomes} == {Outcome.STARTED, Outcome.ALREADY_RUNNING}


async def test_without_a_worker_one_refresh_waits_and_the_rest_are_skipped(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = ts_env.client
    rows = sample_rows(6)
    async with Worker(client, task_queue=task_queue, workflows=[StandInCase]):
        await run_intake(Gateway(client), rows, task_queue=task_queue, refresh=False)

    summary = await run_intake(
        Gateway(client, answer_within=1), rows, task_queue=task_queue, concurrency=1
    )

    notes = [o.note for o in summary.already_running]
    assert notes[0] == "balances not refreshed: no answer within 1s (is a worker running?)"
    assert set(notes[1:]) == {"balances not refreshed: skipped, an earlier refresh got no answer"}


async def test_the_cli_leaves_the_assessment_to_the_workers_policy(
    ts_env: WorkflowEnvironment, task_queue: str, sqlite_url: str, tmp_path: Path
) -> None:
    """`make up` gives its own processes the demo strategy; an operator's `collections intake`
    in another shell has only the default. Its cases follow the workers' policy."""
    path, accounts = errors_file(tmp_path)
    demo = dataclasses.replace(settings_for(task_queue), policy_file=POLICY_DIR / "demo.toml")
    db = Database(sqlite_url)
    services = Services(db=db, sender=OutboxSender())
    async with build_worker(ts_env.client, demo, task_queue, services):
        code, _ = await intake(ts_env.client, path, task_queue)  # the CLI's settings: default
        assert code == 1  # the file's bad rows
        strategies = {}
        for account_no in accounts.values():
            await until_assessed(ts_env.client, f"case-{account_no}")
            handle = ts_env.client.get_workflow_handle_for(
                CollectionCaseWorkflow.run, f"case-{account_no}"
            )
            status = await handle.query(CollectionCaseWorkflow.status)
            strategies[account_no] = status.strategy_version.split("@")[0]
    await db.dispose()
    # Rows 2 and 18 leave the strategy blank; row 19 names `default`.
    assert [strategies[accounts[row]] for row in GOOD_ROWS] == ["demo", "demo", "default"]


async def test_intake_assesses_each_case_it_starts_and_fails_a_row_whose_policy_is_broken(
    ts_env: WorkflowEnvironment, worker: Worker, task_queue: str, tmp_path: Path
) -> None:
    client = ts_env.client
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "bank"\n', encoding="utf-8")  # no version, no ladders
    [(row, good), (bad_row, bad)] = sample_rows(2)
    bad = dataclasses.replace(bad, strategy_version=str(broken))
    assessor = Assessor.configured(settings_for(task_queue))

    summary = await run_intake(
        Gateway(client), [(row, good), (bad_row, bad)], task_queue=task_queue, assessor=assessor
    )

    [started] = summary.started
    [failed] = summary.failed
    assert (started.row, failed.row) == (row, bad_row)
    assert failed.note == f"not assessed: {broken}: 'version' must be a non-empty string"
    with pytest.raises(RPCError):  # nothing was started for it
        await client.get_workflow_handle(failed.workflow_id).describe()
    # The case opened with intake's assessment, and ran no assessment of its own.
    await until_assessed(client, started.workflow_id)
    handle = client.get_workflow_handle_for(CollectionCaseWorkflow.run, started.workflow_id)
    history = await handle.fetch_history()
    attributes = history.events[0].workflow_execution_started_event_attributes
    [case] = await client.data_converter.decode(attributes.input.payloads, [CaseInput])
    expected = await assessor.assess(good.account, "", datetime.now(UTC).date())
    assert case.assessment == expected
    status = await handle.query(CollectionCaseWorkflow.status)
    assert (status.segment, status.score) == (expected.segment, expected.score)
    markers = [
        e.marker_recorded_event_attributes.details["data"].payloads[0].data
        for e in history.events
        if e.HasField("marker_recorded_event_attributes")
    ]
    assert markers and not any(b'"assess_case"' in data for data in markers)


async def test_unreachable_temporal_exits_2(tmp_path: Path) -> None:
    parsed = parse_file(errors_file(tmp_path)[0])
    out, err = io.StringIO(), io.StringIO()

    async def unreachable(_: Settings) -> Gateway:
        raise RuntimeError("Failed client connect")

    code = await start_cases(
        parsed,
        settings=settings_for("nowhere"),
        file_label="overdue.csv",
        options=IntakeOptions(task_queue="nowhere", json_output=True),
        out=Console(file=out),
        err=Console(file=err),
        connect=unreachable,
    )
    assert code == 2
    assert json.loads(out.getvalue())["error"].startswith("Temporal is unreachable")


# --- the command, where no Temporal is needed ---------------------------------------------

runner = CliRunner()


def test_an_unreadable_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["intake", str(tmp_path / "missing.csv")])
    assert result.exit_code == 2
    assert "No such file" in result.output

    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("账号,姓名\n".encode("gbk"))
    result = runner.invoke(app, ["intake", str(gbk), "--json"])
    assert result.exit_code == 2
    assert "not UTF-8" in json.loads(result.stdout)["error"]


def test_a_file_without_the_header_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "no-header.csv"
    path.write_text("PL1,CUST1\n", encoding="utf-8")
    result = runner.invoke(app, ["intake", str(path)])
    assert result.exit_code == 2
    assert "1\theader\tmissing column(s): account_no" in result.stdout


def test_a_file_with_only_bad_rows_exits_1_without_temporal(tmp_path: Path) -> None:
    lines = ERRORS_FILE.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "bad.csv"
    # Rows 3 to 17 but 15, whose account repeats row 2's: here it would be good. (A good row
    # would reach the part of the command that leaves through os._exit.)
    bad = [text for row, text in enumerate(lines, start=1) if 3 <= row <= 17 and row != 15]
    path.write_text("\n".join([lines[0], *bad]) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["intake", str(path), "--as-of", "2026-11-28"])
    assert result.exit_code == 1
    assert "started 0, already running 0, rejected 14" in result.stdout
    assert "张" not in result.stdout and "+86" not in result.stdout


def test_an_unknown_strategy_option_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["intake", str(ERRORS_FILE), "--strategy", "nope"])
    assert result.exit_code == 2


async def test_a_read_model_that_cannot_answer_leaves_the_plain_starts(
    ts_env: WorkflowEnvironment, task_queue: str, tmp_path: Path
) -> None:
    """Which rows' cases run is the read model's to say; when it cannot (no tables here), every
    row is started the plain way and none is lost."""
    client = ts_env.client
    rows = sample_rows(3)
    unready = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        async with Worker(client, task_queue=task_queue, workflows=[StandInCase]):
            summary = await run_intake(Gateway(client), rows, task_queue=task_queue, db=unready)
    finally:
        await unready.dispose()
    assert [o.row for o in summary.started] == [row for row, _ in rows]
