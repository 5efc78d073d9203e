"""`collections history`: a case on an encrypted system, shown in domain words, exported and
replayed through the commands' own functions (the commands themselves leave by `os._exit`)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import io
import json
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console
from temporalio.api.failure.v1 import ApplicationFailureInfo, Failure
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from activities.messaging.senders import OutboxSender
from cli.history import export_history, replay_files, show_history, workflow_id_for
from cli.history_rows import pending_rows
from cli.history_timeline import history_timeline
from cli.history_words import safe, summarize
from cli.main import app
from config.settings import Settings, TaskQueues, load_settings
from models.contracts import (
    Account,
    CaseInput,
    ContactPoints,
    PromiseToPayInput,
    ReasonInput,
    RecordPaymentInput,
    case_id,
)
from operations.history import Histories
from readmodel.engine import Database
from temporal.client import data_converter
from temporal.codec import ENCODING, EncryptionCodec
from temporal.history_files import read_history
from tests.fakes.twilio_api import FakeTwilio
from tests.histories.record import morning, retries_and_new_run
from tests.time_skip import skip
from tests.workflows.harness import CaseHarness, running_harness, twilio_sender
from workers.main import Services, build_worker
from workflows.case import CollectionCaseWorkflow as Case

KEY = bytes(range(32))
MOBILE = "+8613912345678"
HISTORIES = Path(__file__).parent.parent / "histories"


def settings_for(queue: str, var_dir: Path, *, with_key: bool) -> Settings:
    """No `.env`, and a `var/` of the test's own, so no payload key of this machine is used."""
    environ = {"COLLECTIONS_VAR_DIR": str(var_dir)}
    if with_key:
        environ["PAYLOAD_KEYS"] = f"test-key:{base64.b64encode(KEY).decode()}"
    base = load_settings(environ=environ, env_file=Path("/nonexistent"))
    return dataclasses.replace(base, task_queues=TaskQueues(collections=queue))


def consoles() -> tuple[Console, io.StringIO, Console, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Console(file=out, width=200), out, Console(file=err, width=200), err


def connecting(client: Client) -> Callable[[Settings], Awaitable[Histories]]:
    async def connect(_: Settings) -> Histories:
        return Histories(client)

    return connect


@dataclasses.dataclass
class EncryptedCase:
    env: WorkflowEnvironment
    client: Client  # with the payload key, as an engineer's machine
    account_no: str
    settings: Settings


@pytest.fixture
async def encrypted_case(
    ts_env: WorkflowEnvironment, task_queue: str, sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[EncryptedCase]:
    """A case lived through on a system whose payloads are encrypted: a promise, payments, a
    pause whose reason quotes the customer's number, and a resume; closed as paid."""
    codec = EncryptionCodec([("test-key", KEY)])
    config = ts_env.client.config()
    config["data_converter"] = data_converter(codec)
    client = Client(**config)
    path = tmp_path / "collections.db"
    await asyncio.to_thread(shutil.copyfile, sqlite_template, path)
    db = Database(f"sqlite+aiosqlite:///{path}")
    settings = settings_for(task_queue, tmp_path / "var", with_key=True)
    account_no = f"6222{uuid.uuid4().int % 10**12:012d}"
    case = CaseInput(
        customer_ref="CUST-H1",
        customer_name="张伟",
        contact=ContactPoints(mobile=MOBILE),
        account=Account(
            account_no=account_no,
            product="card",
            currency="CNY",
            outstanding_minor=300_000,
            overdue_minor=80_000,
            oldest_due_date=(await ts_env.get_current_time()).date() - timedelta(days=5),
        ),
    )
    services = Services(db=db, sender=OutboxSender())
    async with build_worker(client, settings, task_queue, services):
        await morning(ts_env)
        handle = await client.start_workflow(
            Case.run, case, id=case_id(account_no), task_queue=task_queue
        )
        await skip(ts_env, timedelta(days=1), [handle.id])
        promised = (await ts_env.get_current_time()).date() + timedelta(days=5)
        await handle.execute_update(
            Case.promise_to_pay,
            PromiseToPayInput(amount_minor=80_000, currency="CNY", promised_date=promised),
        )
        pay = RecordPaymentInput(amount_minor=20_000, currency="CNY", payment_ref="H-1")
        await handle.execute_update(Case.record_payment, pay)
        await handle.execute_update(Case.pause, ReasonInput(reason=f"call back on {MOBILE}"))
        await skip(ts_env, timedelta(days=2), [handle.id])
        await handle.execute_update(Case.resume, ReasonInput(reason="customer is back"))
        await skip(ts_env, timedelta(days=2), [handle.id])
        pay = RecordPaymentInput(amount_minor=280_000, currency="CNY", payment_ref="H-2")
        await handle.execute_update(Case.record_payment, pay)
        await handle.result()
        yield EncryptedCase(ts_env, client, account_no, settings)
    await db.dispose()


def assert_no_phone_number(*texts: str) -> None:
    for text in texts:
        assert "13912345678" not in text and "1391234" not in text


async def test_show_tells_the_case_in_domain_words_and_masks_the_number(
    encrypted_case: EncryptedCase,
) -> None:
    case = encrypted_case
    out, out_text, err, err_text = consoles()

    code = await show_history(
        case.account_no, settings=case.settings, out=out, err=err, connect=connecting(case.client)
    )

    assert code == 0
    text = out_text.getvalue()
    lines = text.splitlines()
    assert "started CollectionCase on queue" in lines[0]
    for words in (
        "opened (strategy default 2026.11-1, score",
        "sms reminder sent (reminder_friendly)",
        "promise_to_pay (amount=800.00 CNY",
        "promise to pay (800.00 CNY by",
        "record_payment (amount=200.00 CNY, payment_ref=H-1) accepted: payment recorded",
        "payment recorded (200.00 CNY ref H-1)",
        "paused (call back on +86*******5678)",
        "resume (reason=customer is back) accepted: case resumed",
        "waited until",
        "case closed (paid: payment H-2)",
        "sms closing message sent (closing_paid)",
        "completed (closed as paid)",
    ):
        assert words in text, words
    assert text.count("opened (strategy") == 1  # from the opening write, not its assessment too
    assert all(
        line[:16].replace("-", "").replace(":", "").replace(" ", "").isdigit() for line in lines
    )
    assert "张伟" not in text and "CUST-H1" not in text
    assert_no_phone_number(text, err_text.getvalue())
    assert err_text.getvalue() == ""


async def test_show_json_and_table(encrypted_case: EncryptedCase) -> None:
    case = encrypted_case
    out, out_text, err, _ = consoles()
    code = await show_history(
        case_id(case.account_no),
        settings=case.settings,
        json_output=True,
        out=out,
        err=err,
        connect=connecting(case.client),
    )
    assert code == 0
    rows = json.loads(out_text.getvalue())
    assert all(set(row) == {"at", "kind", "detail"} for row in rows)
    kinds = [row["kind"] for row in rows]
    for kind in ("started", "opened", "contact_sent", "update", "payment", "timer", "completed"):
        assert kind in kinds, kind
    assert kinds[-1] == "completed"
    assert_no_phone_number(out_text.getvalue())

    table = io.StringIO()
    await show_history(
        case.account_no,
        settings=case.settings,
        out=Console(file=table, force_terminal=True, width=240),
        err=err,
        connect=connecting(case.client),
    )
    assert f"case-{case.account_no} (1 run)" in table.getvalue()
    assert "payment recorded" in table.getvalue()


async def test_show_without_the_key_says_what_it_cannot_read(
    encrypted_case: EncryptedCase,
) -> None:
    case = encrypted_case
    out, out_text, err, err_text = consoles()
    code = await show_history(
        case.account_no,
        settings=case.settings,
        out=out,
        err=err,
        connect=connecting(case.env.client),
    )
    assert code == 0
    text = out_text.getvalue()
    assert "record_payment (encrypted) accepted; its answer is encrypted" in text
    assert "waited until" in text and "payment recorded" not in text
    assert "could not be decoded" in err_text.getvalue()
    assert "PAYLOAD_KEYS" in err_text.getvalue()
    assert_no_phone_number(text, err_text.getvalue())


async def test_export_then_replay_needs_the_key_that_wrote_the_history(
    encrypted_case: EncryptedCase, tmp_path: Path
) -> None:
    case = encrypted_case
    file = tmp_path / "case.json"
    out, _, err, err_text = consoles()
    code = await export_history(
        case.account_no,
        settings=case.settings,
        output=file,
        out=out,
        err=err,
        connect=connecting(case.env.client),
    )
    assert code == 0 and f"wrote {file}" in err_text.getvalue()
    document = json.loads(file.read_text(encoding="utf-8"))
    assert document["workflowId"] == case_id(case.account_no)
    assert base64.b64encode(ENCODING).decode() in file.read_text()  # still encrypted
    assert_no_phone_number(file.read_text())

    out, out_text, err, _ = consoles()
    connect = connecting(case.env.client)
    code = await export_history(
        case.account_no, settings=case.settings, out=out, err=err, connect=connect
    )
    assert code == 0 and json.loads(out_text.getvalue()) == document  # stdout without -o

    out, out_text, err, _ = consoles()
    assert await replay_files([file], settings=case.settings, out=out, err=err) == 0
    assert out_text.getvalue().startswith(f"ok\t{file}\tcase-{case.account_no} (CollectionCase")

    keyless = settings_for("collections", tmp_path / "var", with_key=False)
    out, out_text, err, _ = consoles()
    assert await replay_files([file], settings=keyless, out=out, err=err) == 1
    assert out_text.getvalue().startswith(f"failed\t{file}\t")


@pytest.fixture
async def harness(
    ts_env: WorkflowEnvironment, task_queue: str, sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[CaseHarness]:
    """The workflow tests' harness, without a payload codec, and with a fake Twilio of its own."""
    path = tmp_path / "collections.db"
    await asyncio.to_thread(shutil.copyfile, sqlite_template, path)
    db = Database(f"sqlite+aiosqlite:///{path}")
    with FakeTwilio() as fake:
        sender = twilio_sender(fake)
        async for running in running_harness(ts_env, task_queue, fake, db, sender):
            yield running
        await sender.aclose()
    await db.dispose()


async def test_show_follows_the_case_across_continue_as_new(
    harness: CaseHarness, tmp_path: Path
) -> None:
    runs = await retries_and_new_run(harness)
    settings = settings_for(harness.queue, tmp_path / "var", with_key=False)
    workflow_id = runs[0][1].workflow_id
    out, out_text, err, _ = consoles()
    connect = connecting(harness.client)
    assert (
        await show_history(workflow_id, settings=settings, out=out, err=err, connect=connect) == 0
    )
    text = out_text.getvalue()
    # The first try, local, met the 429; the activity after it met two 500s.
    assert "send_contact failed (local): TransientSendError: twilio rate limit (429)" in text
    assert "send_contact failed 2 times; retried (attempt 3)" in text
    assert "continued as new (next run " in text and ", continuing run " in text
    assert text.count("started CollectionCase") == 2

    out, out_text, err, _ = consoles()
    code = await show_history(
        workflow_id, settings=settings, max_runs=1, out=out, err=err, connect=connect
    )
    assert code == 0
    latest = out_text.getvalue()
    assert latest.count("started CollectionCase") == 1 and ", continuing run " in latest
    assert "send_contact failed" not in latest


async def test_an_unknown_case_exits_1(ts_env: WorkflowEnvironment, tmp_path: Path) -> None:
    settings = settings_for("collections", tmp_path, with_key=False)
    out, _, err, err_text = consoles()
    connect = connecting(ts_env.client)
    assert await show_history("000000", settings=settings, out=out, err=err, connect=connect) == 1
    assert "no workflow case-000000" in err_text.getvalue()
    assert (
        await export_history("case-000000", settings=settings, out=out, err=err, connect=connect)
        == 1
    )


async def test_replay_reports_unreadable_files_with_exit_2(tmp_path: Path) -> None:
    settings = settings_for("collections", tmp_path, with_key=False)
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    no_events = tmp_path / "empty.json"
    no_events.write_text('{"events": []}')
    recorded = HISTORIES / "promise_pause_payment.json"
    out, out_text, err, _ = consoles()
    files = [recorded, garbage, no_events, tmp_path / "missing.json"]
    code = await replay_files(files, settings=settings, out=out, err=err)
    assert code == 2
    lines = out_text.getvalue().splitlines()
    assert [line.split("\t")[0] for line in lines] == [
        "ok",
        "unreadable",
        "unreadable",
        "unreadable",
    ]
    assert "not JSON" in lines[1] and "No such file" in lines[3]


async def test_a_folder_replays_every_history_in_it(tmp_path: Path) -> None:
    settings = settings_for("collections", tmp_path, with_key=False)
    out, out_text, err, _ = consoles()
    assert await replay_files([HISTORIES], settings=settings, out=out, err=err) == 0
    assert len(out_text.getvalue().splitlines()) == len(list(HISTORIES.rglob("*.json")))


@pytest.mark.parametrize(
    ("folder", "retries"),
    [
        # A 429 and two 500s: the local try met the first, the activity after it the others.
        (HISTORIES, ["send_contact failed (local): TransientSendError: twilio rate limit (429)",
                     "send_contact failed 2 times; retried (attempt 3)"]),
        (HISTORIES / "before-local-send", ["send_contact failed 3 times; retried (attempt 4)"]),
    ],
)  # fmt: skip
async def test_the_timeline_follows_retries_and_continue_as_new(
    folder: Path, retries: list[str]
) -> None:
    runs = [read_history(folder / f"retries_and_new_run.run{n}.json") for n in (1, 2)]
    timeline = await history_timeline(runs, data_converter())
    details = [row.detail for row in timeline.rows]
    assert [d for d in details if d.startswith("send_contact failed")] == retries
    assert any(d.startswith("continued as new (next run ") for d in details)
    assert any(", continuing run " in d for d in details)
    assert details[-1] == "completed (closed as paid)"
    assert [row.at for row in timeline.rows] == sorted(row.at for row in timeline.rows)


async def test_the_timeline_shows_handoffs_and_the_signals_that_answer_them() -> None:
    case = read_history(HISTORIES / "hardship_handoff.case.json")
    details = [row.detail for row in (await history_timeline([case], data_converter())).rows]
    review_id = next(d for d in details if d.startswith("risk review handed off (risk-"))
    assert review_id.endswith(" on queue risk)")
    assert any(
        d.startswith("risk_decided (kind=forbearance, decided_by=risk-officer-2") for d in details
    )
    assert any(d.startswith("risk review completed (risk-") for d in details)
    review = read_history(HISTORIES / "hardship_handoff.review.json")
    details = [row.detail for row in (await history_timeline([review], data_converter())).rows]
    assert details[0].startswith("started RiskReview on queue risk, for case-")
    assert any(d.startswith("risk_decided sent to case-") for d in details)


def test_an_activity_still_retrying_shows_its_last_failure() -> None:
    pending = PendingActivityInfo(
        attempt=5,
        last_failure=Failure(
            message=f"twilio rejected {MOBILE}",
            application_failure_info=ApplicationFailureInfo(type="TransientSendError"),
        ),
    )
    pending.activity_type.name = "send_contact"
    pending.last_attempt_complete_time.FromSeconds(1_800_000_000)
    [row] = pending_rows([pending])
    assert (
        row.detail
        == "send_contact failed (attempt 4): TransientSendError: twilio rejected +86*******5678"
    )


def test_words_are_masked_but_dates_stay_readable() -> None:
    text = safe(f"call {MOBILE} before 2026-12-05T10:21:12.462000+00:00 or on 2026-12-06")
    assert text == "call +86*******5678 before 2026-12-05 10:21 or on 2026-12-06"
    summary = summarize(
        {
            "to": MOBILE,
            "customer_name": "张伟",
            "channel": "sms",
            "amount_minor": 1234,
            "currency": "CNY",
        }
    )
    assert summary == "channel=sms, amount=12.34 CNY"


def test_targets_and_command_registration() -> None:
    assert workflow_id_for("6222000000000001") == "case-6222000000000001"
    assert workflow_id_for("case-PL0000000001") == "case-PL0000000001"
    assert workflow_id_for("risk-6222-20261128-1") == "risk-6222-20261128-1"
    runner = CliRunner()
    listed = runner.invoke(app, ["history", "--help"])
    assert listed.exit_code == 0
    assert all(command in listed.output for command in ("show", "export", "replay"))
    bad = runner.invoke(app, ["history", "replay", "x.json", "--workflow", "nowhere:Nothing"])
    assert bad.exit_code == 2
