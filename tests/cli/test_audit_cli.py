"""`collections audit who-saw`: the access log of one account, newest first, through the
command's async core against a migrated SQLite read model."""

from __future__ import annotations

from typer.testing import CliRunner

from cli.audit import show_who_saw
from cli.main import app
from operations import access, staff
from operations.access import Looked
from readmodel.engine import Database
from tests.cli.test_staff_cli import Local
from tests.staffing import add_person
from tests.workflows import harness as workflow_harness

sqlite_db = workflow_harness.sqlite_db

ACCOUNT, OTHER, UNSEEN = "6222000000000101", "6222000000000102", "6222000000000103"


async def person(db: Database, person_id: str, roles: list[str]) -> staff.Person:
    await add_person(db, person_id, roles)
    found = await staff.active_person(db, person_id)
    assert found is not None
    return found


async def test_who_saw_names_each_read_newest_first(sqlite_db: Database) -> None:
    ann = await person(sqlite_db, "ops.ann", ["collector"])
    lee = await person(sqlite_db, "legal.lee", ["legal"])
    await access.record(
        sqlite_db,
        ann,
        "console",
        Looked.CONTACT_DETAILS,
        "calling the customer",
        account_no=ACCOUNT,
    )
    await access.record(
        sqlite_db,
        lee,
        "api",
        Looked.DOSSIER,
        "court asked, ring +8613912345678",
        account_no=ACCOUNT,
    )
    await access.record(sqlite_db, lee, "api", Looked.DOSSIER, "other case", account_no=OTHER)
    cli = Local(sqlite_db)

    ran = await cli(lambda env: show_who_saw(env, ACCOUNT))

    assert ran.code == 0, ran.err
    header, *rows = ran.out.splitlines()
    assert header == "at\twho\tvia\twhat\twhy"
    assert [row.split("\t")[1:] for row in rows] == [
        ["legal.lee", "api", "dossier", "court asked, ring +86*******5678"],
        ["ops.ann", "console", "contact_details", "calling the customer"],
    ]
    assert rows[0].split("\t")[0].endswith(" UTC")

    ran = await cli(lambda env: show_who_saw(env, f"case-{ACCOUNT}"), json_output=True)
    document = ran.json()
    assert document["account_no"] == ACCOUNT and document["exit_code"] == 0
    assert [(r["person_id"], r["via"], r["what"]) for r in document["reads"]] == [
        ("legal.lee", "api", "dossier"),
        ("ops.ann", "console", "contact_details"),
    ]
    assert "+8613912345678" not in ran.out


async def test_an_account_nobody_looked_at_says_so(sqlite_db: Database) -> None:
    cli = Local(sqlite_db)

    ran = await cli(lambda env: show_who_saw(env, UNSEEN))
    assert ran.code == 0
    assert ran.out.strip() == f"nobody has looked at the personal data of account {UNSEEN}"
    ran = await cli(lambda env: show_who_saw(env, UNSEEN), json_output=True)
    assert ran.json() == {"account_no": UNSEEN, "reads": [], "exit_code": 0}


def test_the_audit_command_is_registered() -> None:
    result = CliRunner().invoke(app, ["audit", "--help"])
    assert result.exit_code == 0 and "who-saw" in result.output
