"""The daily intake workflow on the time-skipping server (which has no schedules: the workflow
is started directly), with the production worker, a drop folder of the test's own and real
cases: a dropped file is loaded once, its bad row reported in an errors file and the file
recorded and moved; the same content under another name loads nothing; a run past the due
hour with no file that day says the file is late, as `collections intake-files` does; and a
retried load resumes after the rows its last heartbeat counted."""

from __future__ import annotations

import csv
import dataclasses
import os
import stat
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.messaging.senders import OutboxSender
from cli import intake as intake_cli
from config.settings import Settings
from models.daily_intake import DailyIntakeInput, DailyIntakeResult, LoadFileInput, lateness
from operations.activities.daily_intake import INTAKE_ACTOR, DailyIntakeActivities, IntakeFolders
from operations.gateway import Gateway
from readmodel.engine import Database
from readmodel.intake_files import list_intake_files
from tests.cli.test_staff_cli import Local
from tests.workflows.harness import test_settings as settings_for
from workers.main import Services, build_worker
from workflows.daily_intake import DailyIntakeWorkflow

HEADER = (
    "account_no,customer_ref,customer_name,mobile,language,time_zone,product,currency,"
    "outstanding_minor,overdue_minor,oldest_due_date,strategy"
)
BAD_NAME, BAD_MOBILE = "李娜", "+86 139 0000 0003"
NOT_E164 = "mobile is not E.164 (+ and 8 to 15 digits, no spaces)"


def overdue_file() -> tuple[list[str], str]:
    """Two good rows (2 and 4) around a bad one (3: its mobile has spaces); accounts of its own."""
    token = uuid.uuid4().int % 10**10
    good = [f"PL{token:010d}1", f"CC{token:010d}2"]
    lines = [
        HEADER,
        f"{good[0]},CUST{token}1,张伟,+8613800000001,zh-CN,Asia/Shanghai,personal_loan,CNY,"
        "5000000,250000,2025-10-20,",
        f"CC{token:010d}3,CUST{token}3,{BAD_NAME},{BAD_MOBILE},zh-CN,Asia/Shanghai,card,CNY,"
        "800000,80000,2025-10-25,",
        f"{good[1]},CUST{token}2,Olivia Brown,+447700900004,en,Europe/London,card,GBP,"
        "450000,45000,2025-10-30,",
    ]
    return good, "\n".join(lines) + "\n"


def drop(path: Path, text: str) -> Path:
    """Writes the file as the bank's transfer would, five minutes ago: past the quiet minute."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    then = datetime.now(UTC).timestamp() - 300
    os.utime(path, (then, then))
    return path


def intake_settings(queue: str, tmp_path: Path) -> Settings:
    var = tmp_path / "var"
    return dataclasses.replace(
        settings_for(queue), var_dir=var, intake_drop_dir=var / "intake" / "incoming"
    )


@pytest.fixture
async def settings(
    ts_env: WorkflowEnvironment, task_queue: str, sqlite_db: Database, tmp_path: Path
) -> AsyncIterator[Settings]:
    """The production worker of the collections queue (the cases and the intake), its drop
    folder under the test's tmp dir."""
    settings = intake_settings(task_queue, tmp_path)
    services = Services(db=sqlite_db, sender=OutboxSender())
    async with build_worker(ts_env.client, settings, task_queue, services):
        yield settings


async def run_intake(env: WorkflowEnvironment, queue: str) -> DailyIntakeResult:
    # The cases it starts have timers: the clock stands still meanwhile.
    with env.auto_time_skipping_disabled():
        return await env.client.execute_workflow(
            DailyIntakeWorkflow.run,
            DailyIntakeInput(),
            id=f"daily-intake-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as rows:
        return list(csv.reader(rows))


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_a_dropped_file_is_loaded_once_under_any_name(
    ts_env: WorkflowEnvironment, settings: Settings, sqlite_db: Database
) -> None:
    accounts, text = overdue_file()
    dropped = drop(settings.intake_drop_dir / "overdue-20261204.csv", text)

    result = await run_intake(ts_env, settings.task_queues.collections)

    [report] = result.loaded
    assert report.name == "overdue-20261204.csv"
    assert (report.rows, report.started, report.refreshed, report.rejected, report.failed) == (
        3,
        2,
        0,
        1,
        0,
    )
    for account_no in accounts:
        described = await ts_env.client.get_workflow_handle(f"case-{account_no}").describe()
        assert described.status is WorkflowExecutionStatus.RUNNING
    errors = Path(report.errors_file)
    assert errors.parent == settings.intake_errors_dir and private(errors)
    assert csv_rows(errors) == [["row", "column", "reason"], ["3", "mobile", NOT_E164]]
    assert BAD_NAME not in str(csv_rows(errors))
    stored = Path(report.stored_as)
    assert not dropped.exists()
    assert stored.parent == settings.intake_processed_dir and private(stored)
    assert csv_rows(stored) == list(csv.reader(text.splitlines()))
    assert await list_intake_files(sqlite_db) == [report]
    assert result.last_file_at == report.processed_at and result.late == ""

    # `collections intake-files` shows it, with its errors file.
    ran = await Local(sqlite_db)(
        lambda env: intake_cli.list_intake_files(
            dataclasses.replace(env, settings=settings), now=report.processed_at
        )
    )
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0].startswith("on time: last file loaded")
    assert lines[2].split("\t")[1:] == ["overdue-20261204.csv", *"32010", str(errors)]

    # Again, with the same file under another name beside it: nothing is loaded.
    copy = drop(settings.intake_drop_dir / "overdue-copy.csv", text)
    again = await run_intake(ts_env, settings.task_queues.collections)

    assert again.loaded == () and again.already_loaded == ("overdue-copy.csv",)
    assert copy.exists()
    assert await list_intake_files(sqlite_db) == [report]


async def test_past_the_due_hour_with_no_file_that_day_the_run_says_late(
    ts_env: WorkflowEnvironment, settings: Settings, sqlite_db: Database
) -> None:
    queue = settings.task_queues.collections
    now = await ts_env.get_current_time()
    three_am = datetime.combine(now.date() + timedelta(days=1), time(3), UTC)
    await ts_env.sleep(three_am - now)  # no workflow runs yet: nothing for the clock to wake

    result = await run_intake(ts_env, queue)

    assert result.loaded == () and result.last_file_at is None
    assert result.late == "no file today (due by 01:00 UTC)"
    ran = await Local(sqlite_db)(
        lambda env: intake_cli.list_intake_files(
            dataclasses.replace(env, settings=settings), now=three_am
        )
    )
    assert ran.out.splitlines()[0] == "LATE: no file today (due by 01:00 UTC); last file loaded -"

    # The file comes: the next run loads it, and it is late no more.
    drop(settings.intake_drop_dir / "overdue.csv", overdue_file()[1])
    result = await run_intake(ts_env, queue)

    assert [r.started for r in result.loaded] == [2]
    assert result.late == ""


async def test_a_retried_load_resumes_after_its_last_heartbeat(
    ts_env: WorkflowEnvironment, task_queue: str, sqlite_db: Database, tmp_path: Path
) -> None:
    settings = intake_settings(task_queue, tmp_path)
    accounts, text = overdue_file()
    drop(settings.intake_drop_dir / "overdue.csv", text)
    gateway = Gateway(ts_env.client, actor=INTAKE_ACTOR)
    activities = DailyIntakeActivities(
        gateway, sqlite_db, IntakeFolders.from_settings(settings), task_queue=task_queue
    )
    env = ActivityEnvironment()
    [file] = (await env.run(activities.scan_drop_folder)).new
    # The lost attempt started the first good row (of two) and said so.
    done = {"done": 1, "started": 1, "refreshed": 0, "failed": {}}
    env.info = dataclasses.replace(env.info, heartbeat_details=[done])
    beats: list[tuple[Any, ...]] = []
    env.on_heartbeat = lambda *details: beats.append(details)

    at = await ts_env.get_current_time()
    report = await env.run(activities.load_intake_file, LoadFileInput(file=file, at=at))

    assert (report.started, report.rejected) == (2, 1)
    assert [b[0]["done"] for b in beats] == [1, 2]
    with pytest.raises(RPCError):  # never started again: this attempt began after it
        await ts_env.client.get_workflow_handle(f"case-{accounts[0]}").describe()
    described = await ts_env.client.get_workflow_handle(f"case-{accounts[1]}").describe()
    assert described.status is WorkflowExecutionStatus.RUNNING


def test_the_file_is_late_past_the_due_hour_or_a_day_and_more_after_the_last() -> None:
    day = datetime(2026, 12, 4, tzinfo=UTC)
    yesterday = day - timedelta(hours=23)  # 01:00 the day before

    def late(hour: float, last: datetime | None) -> str:
        return lateness(now=day + timedelta(hours=hour), last_file_at=last, due_hour_utc=2)

    assert late(1.9, yesterday) == ""  # not due yet
    assert late(2, yesterday) == "no file today (due by 02:00 UTC)"
    assert late(2, day + timedelta(minutes=30)) == ""
    assert late(0.5, None) == ""
    assert late(1.5, yesterday - timedelta(hours=2)) == "no file for more than 26 hours"
