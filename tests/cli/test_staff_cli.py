"""`collections staff` and `collections token`: the directory and API tokens through the
commands' async cores, against a migrated SQLite read model (they need no Temporal); the typer
layer only for its help and usage errors, which it prints before it connects to anything."""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rich.console import Console
from temporalio.client import Client
from typer.testing import CliRunner

from cli import staff as staff_cli
from cli.actions import CommandEnv, run_command
from cli.main import app
from config.settings import Settings
from operations import signin, staff
from operations.gateway import Gateway
from readmodel.engine import Database
from tests.cli.test_case_cli import Ran
from tests.staffing import PASSWORD, add_person
from tests.workflows import harness as workflow_harness
from tests.workflows.harness import test_settings as settings_for

sqlite_db = workflow_harness.sqlite_db

Core = Callable[[CommandEnv], Awaitable[int]]
ONE_TIME = re.compile(r"one-time password for ([a-z0-9._-]+): (\S+) \(to be changed")


@dataclass(frozen=True)
class Local:
    """Runs a command's core as the CLI would, as `actor`, for commands that need only the
    database (one that reached for Temporal would exit 2), or the `temporal` client given."""

    db: Database
    actor: str = "host.admin"
    temporal: Client | None = None  # for the commands that reach Temporal (schedules)

    async def __call__(self, core: Core, *, json_output: bool = False) -> Ran:
        out, err = io.StringIO(), io.StringIO()

        async def no_temporal(_: Settings) -> Gateway:
            if self.temporal is not None:
                return Gateway(self.temporal)
            raise RuntimeError("this command needs no Temporal")

        env = CommandEnv(
            dataclasses.replace(settings_for("none"), cli_actor=self.actor),
            json_output=json_output,
            out=Console(file=out, width=200),
            err=Console(file=err, width=200),
            connect=no_temporal,
            db=self.db,
        )
        code = await run_command(env, core)
        return Ran(code, out.getvalue(), err.getvalue())


def one_time_password(ran: Ran) -> str:
    found = ONE_TIME.search(ran.out)
    assert found is not None, ran.out
    return found.group(2)


async def test_a_person_is_added_with_a_one_time_password_shown_once(sqlite_db: Database) -> None:
    cli = Local(sqlite_db)
    ann = staff_cli.NewStaff(
        "ann.li", "Ann Li", ["supervisor", "legal"], "shanghai-early", ["zh-CN", "en"]
    )

    ran = await cli(lambda env: staff_cli.add_staff(env, ann))

    assert ran.code == 0, ran.err
    password = one_time_password(ran)
    assert "(to be changed at first sign-in; it is not shown again)" in ran.out
    person = await signin.check_password_sign_in(sqlite_db, "ann.li", password, address="cli")
    assert person is not None and person.must_change_password

    service = staff_cli.NewStaff("svc-intake", "Nightly intake", ["collector"], service=True)
    ran = await cli(lambda env: staff_cli.add_staff(env, service))
    assert ran.code == 0
    assert "signs in by token (collections token new svc-intake --name ...)" in ran.out
    batch = staff_cli.NewStaff("svc-batch", "Batch", ["collector"], service=True)
    ran = await cli(lambda env: staff_cli.add_staff(env, batch), json_output=True)
    assert ran.json() == {
        "person_id": "svc-batch",
        "kind": "service",
        "one_time_password": "",
        "exit_code": 0,
    }

    listed = await cli(lambda env: staff_cli.list_staff(env))
    lines = listed.out.splitlines()
    assert lines[0] == "id\tname\tkind\troles\tteam\tlanguages\tproducts\tcap\tactive"
    ann_li = "ann.li\tAnn Li\tperson\tlegal, supervisor\tshanghai-early\tzh-CN, en\tall\t40\tyes"
    assert ann_li in lines
    assert "svc-intake\tNightly intake\tservice\toperations\t-\t-\tall\t40\tyes" in lines
    assert password not in listed.out and "argon2" not in listed.out

    listed = await cli(lambda env: staff_cli.list_staff(env), json_output=True)
    [first, *_] = listed.json()["staff"]
    assert first == {
        "person_id": "ann.li",
        "name": "Ann Li",
        "kind": "person",
        "roles": ["legal", "supervisor"],
        "team": "shanghai-early",
        "languages": ["zh-CN", "en"],
        "products": [],
        "capacity": 40,
        "active": True,
    }


async def test_a_bad_or_second_entry_changes_nothing(sqlite_db: Database) -> None:
    cli = Local(sqlite_db)

    def add(person_id: str, roles: list[str]) -> Core:
        return lambda env: staff_cli.add_staff(env, staff_cli.NewStaff(person_id, "X", roles))

    bad_role = await cli(add("ann.li", ["boss"]))
    assert bad_role.code == 2 and "unknown role 'boss'" in bad_role.err
    no_role = await cli(add("ann.li", []), json_output=True)
    assert no_role.code == 2 and "at least one role" in no_role.json()["error"]
    bad_id = await cli(add("Ann Li", ["collector"]))
    assert bad_id.code == 2 and "lower-case letters" in bad_id.err
    assert await staff.directory(sqlite_db) == []

    assert (await cli(add("ann.li", ["collector"]))).code == 0
    again = await cli(add("ann.li", ["supervisor"]))
    assert again.code == 4 and "ann.li is already in the directory" in again.err
    [row] = await staff.directory(sqlite_db)
    assert row.roles == "operations"


async def test_disabling_ends_tokens_and_roles_and_passwords_are_replaced(
    sqlite_db: Database,
) -> None:
    cli = Local(sqlite_db)
    token = await add_person(sqlite_db, "ann.li", ["collector"])
    assert await signin.token_person(sqlite_db, token) is not None

    ran = await cli(lambda env: staff_cli.set_active(env, "ann.li", active=False))
    assert ran.code == 0
    assert ran.out.strip() == (
        "disabled ann.li: their sessions have ended and their API tokens are revoked"
    )
    assert await signin.token_person(sqlite_db, token) is None
    active = await cli(lambda env: staff_cli.list_staff(env))
    assert "ann.li" not in active.out and "nobody in the directory is active" in active.out
    everyone = await cli(lambda env: staff_cli.list_staff(env, include_inactive=True))
    assert everyone.out.splitlines()[1].endswith("\tno")
    refused = await cli(lambda env: staff_cli.new_token(env, "ann.li", "again"))
    assert refused.code == 1 and "ann.li is disabled: enable them first" in refused.err

    ran = await cli(lambda env: staff_cli.set_active(env, "ann.li", active=True), json_output=True)
    assert ran.json()["active"] is True
    assert await signin.token_person(sqlite_db, token) is None  # revoked stays revoked

    ran = await cli(lambda env: staff_cli.replace_roles(env, "ann.li", ["supervisor", "collector"]))
    assert ran.code == 0 and "ann.li's roles are now operations, supervisor" in ran.out
    person = await staff.active_person(sqlite_db, "ann.li")
    assert person is not None and person.roles == {"operations", "supervisor"}
    ran = await cli(lambda env: staff_cli.replace_roles(env, "ann.li", []))
    assert ran.code == 2 and "at least one role" in ran.err

    ran = await cli(lambda env: staff_cli.new_password(env, "ann.li"))
    assert ran.code == 0
    password = one_time_password(ran)
    assert await signin.check_password_sign_in(sqlite_db, "ann.li", PASSWORD, address="a") is None
    again = await signin.check_password_sign_in(sqlite_db, "ann.li", password, address="a")
    assert again is not None and again.must_change_password

    await staff.add(sqlite_db, "svc-x", name="X", roles=["collector"], kind="service")
    ran = await cli(lambda env: staff_cli.new_password(env, "svc-x"))
    assert ran.code == 1 and "svc-x is a service account: it signs in by token" in ran.err

    for core in (
        lambda env: staff_cli.set_active(env, "nobody", active=False),
        lambda env: staff_cli.replace_roles(env, "nobody", ["collector"]),
        lambda env: staff_cli.new_password(env, "nobody"),
        lambda env: staff_cli.new_token(env, "nobody", "x"),
    ):
        ran = await cli(core)
        assert ran.code == 3 and "no nobody in the directory" in ran.err


async def test_a_token_is_shown_once_listed_without_its_secret_and_revoked(
    sqlite_db: Database,
) -> None:
    cli = Local(sqlite_db)
    await staff.add(sqlite_db, "svc-x", name="X", roles=["collector"], kind="service")

    ran = await cli(lambda env: staff_cli.new_token(env, "svc-x", "nightly intake", days=30))

    assert ran.code == 0, ran.err
    heading, token, note = ran.out.splitlines()
    [token_id] = re.findall(
        r"^token (\w+) for svc-x, expires \d{4}-\d\d-\d\d \d\d:\d\d UTC:$", heading
    )
    assert (
        token.startswith(f"col_{token_id}_") and note == "it is shown once: only its hash is kept"
    )
    person = await signin.token_person(sqlite_db, token)
    assert person is not None and person.id == "svc-x"

    listed = await cli(lambda env: staff_cli.show_tokens(env, "svc-x"))
    header, row = listed.out.splitlines()
    assert header == "id\towner\tname\tcreated\texpires\trevoked\tlast used"
    cells = row.split("\t")
    assert cells[:3] == [token_id, "svc-x", "nightly intake"]
    assert cells[5] == "-" and cells[6] != "-"  # not revoked; used by token_person above
    assert token.split("_")[-1] not in listed.out
    document = await cli(lambda env: staff_cli.show_tokens(env), json_output=True)
    [shown] = document.json()["tokens"]
    assert set(shown) == {
        "token_id",
        "person_id",
        "name",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    }

    ran = await cli(lambda env: staff_cli.revoke_token(env, token_id))
    assert ran.code == 0 and ran.out.strip() == f"revoked token {token_id}"
    assert await signin.token_person(sqlite_db, token) is None
    again = await cli(lambda env: staff_cli.revoke_token(env, token_id))
    assert again.code == 3 and f"no live token {token_id}" in again.err
    document = await cli(lambda env: staff_cli.show_tokens(env), json_output=True)
    assert document.json()["tokens"][0]["revoked_at"] is not None

    too_long = await cli(lambda env: staff_cli.new_token(env, "svc-x", "x", days=400))
    assert too_long.code == 2 and "a token lives 1 to 366 days" in too_long.err
    unnamed = await cli(lambda env: staff_cli.new_token(env, "svc-x", " "))
    assert unnamed.code == 2 and "needs a name" in unnamed.err
    none = await cli(lambda env: staff_cli.show_tokens(env, "nobody"))
    assert none.out.strip() == "no tokens of nobody"


runner = CliRunner()


def test_the_staff_and_token_commands_are_registered() -> None:
    result = runner.invoke(app, ["staff", "--help"])
    assert result.exit_code == 0
    for command in ("add", "list", "disable", "enable", "roles", "reset-password"):
        assert command in result.output
    result = runner.invoke(app, ["token", "--help"])
    assert result.exit_code == 0 and "new" in result.output and "revoke" in result.output
    result = runner.invoke(app, ["staff", "add", "ann.li", "--role", "collector"])
    assert result.exit_code == 2 and "--name" in result.output  # required, before any database
