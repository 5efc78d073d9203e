"""`collections performance` over the portfolio of `tests.readmodel.test_performance` (June
2026), through the command's async core against a migrated SQLite read model: tables, the
API's JSON document, CSV, and a window that cannot be counted."""

from __future__ import annotations

import csv
import io

from typer.testing import CliRunner

from cli.main import app
from cli.performance import Part, show_performance
from readmodel.engine import Database
from tests.cli.test_staff_cli import Local
from tests.readmodel.test_performance import ANN, BOB, CAT, seed
from tests.workflows import harness as workflow_harness

sqlite_db = workflow_harness.sqlite_db

JUNE = ("2026-06-01", "2026-07-01")


async def test_the_figures_as_tables_json_and_csv(sqlite_db: Database) -> None:
    await seed(sqlite_db)
    cli = Local(sqlite_db)

    ran = await cli(lambda env: show_performance(env, *JUNE, None, 2))
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0].startswith("level\tid\tteam\tcontacts\trpc\tpromises\tkept\tcollected")
    assert f"collector\t{CAT}\tsouth\t1\t1\t1\t1\t50.00 CNY, 200.00 USD\t1\t1\t1" in lines
    assert "center\tcenter\t-\t6\t4\t5\t3\t650.00 CNY, 200.00 USD\t2\t2\t2" in lines
    assert "2026-06\t33.3% (2/6)" in lines  # June's cure rate
    assert "USD\t200.00 USD\t200.00 USD\t100.0%" in lines

    ran = await cli(lambda env: show_performance(env, *JUNE, "north", 2), json_output=True)
    document = ran.json()
    assert [row["person_id"] for row in document["collectors"]] == [ANN, BOB]
    assert document["center"]["collected"] == {"CNY": 65_000, "USD": 20_000}
    assert document["exit_code"] == 0

    ran = await cli(lambda env: show_performance(env, *JUNE, None, 2, Part.ROLL_RATES))
    rows = list(csv.DictReader(io.StringIO(ran.out)))
    moved = {(r["month"], r["from_bucket"], r["to_bucket"]): r["cases"] for r in rows}
    assert moved[("2026-05", "M3", "M4+")] == "1" and moved[("2026-06", "M1", "closed")] == "1"


async def test_a_window_that_cannot_be_counted_exits_2(sqlite_db: Database) -> None:
    ran = await Local(sqlite_db)(
        lambda env: show_performance(env, "2026-07-01", "2026-06-01", None, 6)
    )
    assert ran.code == 2 and "since must be before until" in ran.err


def test_the_command_is_registered() -> None:
    shown = CliRunner().invoke(app, ["performance", "--help"])
    assert shown.exit_code == 0 and "--csv" in shown.output and "--team" in shown.output
