"""`collections customer export|erase`: a customer's data on request, through the commands' async
cores against a migrated SQLite read model seeded by the case store's writes (no Temporal); and
the `collections schedule` commands without Temporal (with it: tests/integration)."""

from __future__ import annotations

import dataclasses
import io
import json
import stat
from datetime import timedelta
from pathlib import Path

from rich.console import Console
from sqlmodel import select
from typer.testing import CliRunner

from cli import customer as customer_cli
from cli import schedule as schedule_cli
from cli.actions import CommandEnv, run_command
from cli.main import app
from models.case_writes import (
    CaseSnapshot,
    CaseWrite,
)
from models.contracts import (
    ClosureReason,
    Stage,
)
from models.strategy import Segment
from operations import access, staff
from readmodel import writes
from readmodel.engine import Database
from readmodel.tables import CustomerRow
from tests.cli.test_staff_cli import Local
from tests.readmodel.test_retention import HARDSHIP, MOBILE, NAME, OLD, Seeded, seed_case
from tests.workflows import harness as workflow_harness
from tests.workflows.harness import test_settings as settings_for

sqlite_db = workflow_harness.sqlite_db

OTHER_NAME, OTHER_MOBILE = "李娜", "+8613911112222"
REASON = "the customer asked for their data"
DAYS_30 = timedelta(days=30)


async def seed(db: Database) -> tuple[Seeded, Seeded, Seeded]:
    """C-1: a case closed and one open; C-2, someone else, one closed case. A supervisor and a
    collector in the directory."""
    closed = await seed_case(db, 1, customer_ref="C-1", opened_at=OLD, closed_at=OLD + DAYS_30)
    still_open = await seed_case(db, 2, customer_ref="C-1", opened_at=OLD, closed_at=None)
    other = await seed_case(
        db,
        3,
        customer_ref="C-2",
        opened_at=OLD,
        closed_at=OLD + DAYS_30,
        name=OTHER_NAME,
        mobile=OTHER_MOBILE,
    )
    await staff.add(db, "sup.sam", name="Sam", roles=["supervisor"])
    await staff.add(db, "ops.ann", name="Ann", roles=["collector"])
    return closed, still_open, other


async def close(db: Database, case: Seeded) -> None:
    await writes.write_case(
        db,
        write=CaseWrite(
            snapshot=CaseSnapshot(
                case_id=case.case_id,
                account_no=case.account_no,
                customer_ref=case.customer_ref,
                stage=Stage.CLOSED,
                segment=Segment.MEDIUM,
                score=42,
                strategy_version="default@1",
                days_past_due=35,
                currency="CNY",
                outstanding_minor=0,
                overdue_minor=0,
                closed_reason=ClosureReason.SETTLED,
                updated_at=OLD + 2 * DAYS_30,
            )
        ),
    )


async def customer(db: Database, ref: str) -> CustomerRow:
    async with db.session() as session:
        return (
            await session.exec(select(CustomerRow).where(CustomerRow.customer_ref == ref))
        ).one()


async def test_the_export_holds_everything_about_one_customer_and_nothing_about_another(
    sqlite_db: Database, tmp_path: Path
) -> None:
    closed, still_open, other = await seed(sqlite_db)
    cli = Local(sqlite_db, actor="sup.sam")

    ran = await cli(lambda env: customer_cli.export_customer(env, "C-1", REASON))

    assert ran.code == 0, ran.err
    document = json.loads(ran.out)
    assert document["customer"]["name"] == NAME and document["customer"]["mobile"] == MOBILE
    assert "mobile_index" not in document["customer"] and "id" not in document["customer"]
    mine = {closed.case_id, still_open.case_id}
    assert {c["case_id"] for c in document["cases"]} == mine
    assert {a["account_no"] for a in document["accounts"]} == {
        closed.account_no,
        still_open.account_no,
    }
    for part, per_case in (
        ("payments", 1),
        ("promises", 1),
        ("contact_attempts", 1),
        ("tasks", 1),
        ("handoffs", 1),
        ("approvals", 1),
    ):
        assert {row["case_id"] for row in document[part]} == mine, part
        assert len(document[part]) == 2 * per_case, part
    assert {h["dossier"]["summary"]["mobile"] for h in document["handoffs"]} == {MOBILE}
    assert HARDSHIP in {h["reason"] for h in document["handoffs"]}
    assert len(document["audit_log"]) == 4 + 3  # the closed case's four, the open one's three
    assert HARDSHIP in {e["detail"] for e in document["audit_log"]}
    assert document["approvals"][0]["input"]["note"] == f"{NAME} moved abroad"
    for theirs in (OTHER_NAME, OTHER_MOBILE, other.account_no, other.case_id, "C-2"):
        assert theirs not in ran.out
    # Recorded before it was shown: who, how, why, under each of the customer's accounts.
    for account_no in (closed.account_no, still_open.account_no):
        [read] = await access.who_saw(sqlite_db, account_no)
        assert (read.person_id, read.via, read.what, read.reason) == (
            "sup.sam",
            "cli",
            "customer_record",
            REASON,
        )
    assert await access.who_saw(sqlite_db, other.account_no) == []

    path = tmp_path / "c-1.json"
    ran = await cli(lambda env: customer_cli.export_customer(env, "C-1", REASON, path))
    assert ran.code == 0, ran.err
    assert f"to {path}" in ran.out and NAME not in ran.out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["customer"]["mobile"] == MOBILE


async def test_only_a_supervisor_or_legal_officer_of_the_directory_may_export_or_erase(
    sqlite_db: Database,
) -> None:
    closed, _, _ = await seed(sqlite_db)

    for actor in ("nobody", "ops.ann"):
        ran = await Local(sqlite_db, actor=actor)(
            lambda env: customer_cli.export_customer(env, "C-1", REASON)
        )
        assert ran.code == 1
        assert "export needs a supervisor or legal officer in the staff directory" in ran.err
        assert NAME not in ran.out + ran.err
        ran = await Local(sqlite_db, actor=actor)(
            lambda env: customer_cli.erase_customer(env, "C-2", REASON)
        )
        assert ran.code == 1
        assert "erasure needs a supervisor or legal officer in the staff directory" in ran.err
    assert await access.who_saw(sqlite_db, closed.account_no) == []
    assert (await customer(sqlite_db, "C-2")).name == OTHER_NAME

    await staff.set_active(sqlite_db, "sup.sam", False)
    ran = await Local(sqlite_db, actor="sup.sam")(
        lambda env: customer_cli.export_customer(env, "C-1", REASON)
    )
    assert ran.code == 1


async def test_an_unknown_customer_or_a_missing_reason_is_refused(sqlite_db: Database) -> None:
    await seed(sqlite_db)
    cli = Local(sqlite_db, actor="sup.sam")

    ran = await cli(lambda env: customer_cli.export_customer(env, "C-404", REASON))
    assert ran.code == 3 and "no customer C-404" in ran.err
    ran = await cli(lambda env: customer_cli.erase_customer(env, "C-404", REASON))
    assert ran.code == 3
    ran = await cli(lambda env: customer_cli.export_customer(env, "C-1", "  "))
    assert ran.code == 2 and "reason" in ran.err and NAME not in ran.out


async def test_erasure_is_refused_while_a_case_is_open_and_done_once_it_is_closed(
    sqlite_db: Database,
) -> None:
    closed, still_open, other = await seed(sqlite_db)
    cli = Local(sqlite_db, actor="sup.sam")

    ran = await cli(lambda env: customer_cli.erase_customer(env, "C-1", REASON))

    assert ran.code == 1
    assert f"refused: {still_open.case_id} is open (stage collector)" in ran.err
    assert "every case of theirs is closed" in ran.err
    assert (await customer(sqlite_db, "C-1")).mobile == MOBILE
    assert await access.who_saw(sqlite_db, closed.account_no) == []

    await close(sqlite_db, still_open)
    ran = await cli(lambda env: customer_cli.erase_customer(env, "C-1", REASON), json_output=True)

    assert ran.code == 0, ran.err
    answer = ran.json()
    assert set(answer["cases"]) == {closed.case_id, still_open.case_id}
    assert answer["erased"]["cases"] == 2 and answer["erased"]["customers"] == 1
    gone = await customer(sqlite_db, "C-1")
    assert (gone.name, gone.mobile) == (None, "")
    assert (await customer(sqlite_db, "C-2")).mobile == OTHER_MOBILE  # someone else's stays
    [erasure] = await access.who_saw(sqlite_db, closed.account_no)
    assert (erasure.person_id, erasure.what, erasure.reason) == ("sup.sam", "erasure", REASON)
    exported = await cli(lambda env: customer_cli.export_customer(env, "C-1", REASON))
    assert NAME not in exported.out and MOBILE not in exported.out and HARDSHIP not in exported.out
    assert other.case_id not in exported.out


async def test_erasure_is_refused_while_a_case_is_in_legal(sqlite_db: Database) -> None:
    await seed(sqlite_db)
    await seed_case(
        sqlite_db, 4, customer_ref="C-4", opened_at=OLD, closed_at=None, stage=Stage.LEGAL
    )

    ran = await Local(sqlite_db, actor="sup.sam")(
        lambda env: customer_cli.erase_customer(env, "C-4", REASON)
    )

    assert ran.code == 1 and "case-6222000000000004 is in legal proceedings" in ran.err
    assert (await customer(sqlite_db, "C-4")).mobile == MOBILE


def test_the_customer_and_schedule_commands_are_registered() -> None:
    runner = CliRunner()
    customer_help = runner.invoke(app, ["customer", "--help"])
    assert customer_help.exit_code == 0
    assert "export" in customer_help.output and "erase" in customer_help.output
    schedule_help = runner.invoke(app, ["schedule", "--help"])
    assert schedule_help.exit_code == 0
    for command in ("list", "pause", "unpause", "trigger", "ensure"):
        assert command in schedule_help.output
    missing = runner.invoke(app, ["customer", "export", "C-1"])
    assert missing.exit_code == 2 and "--reason" in missing.output


async def test_the_schedule_commands_say_so_when_temporal_is_unreachable(
    sqlite_db: Database,
) -> None:
    settings = dataclasses.replace(
        settings_for("none"), temporal_address="127.0.0.1:1", plaintext_payloads=True
    )
    err = io.StringIO()
    env = CommandEnv(settings, err=Console(file=err, width=200), db=sqlite_db)

    code = await run_command(env, schedule_cli.list_schedules)

    assert code == 2
    assert "Temporal is unreachable at 127.0.0.1:1" in err.getvalue()
