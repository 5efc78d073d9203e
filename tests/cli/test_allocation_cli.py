"""`collections tasks allocate`, `tasks reassign`, `tasks list --sort priority` and `staff work`,
driven through the commands' cores against real cases on the time-skipping server."""

from __future__ import annotations

from datetime import timedelta

from typer.testing import CliRunner

from cli import allocation as allocation_cli
from cli import staff as staff_cli
from cli import tasks
from cli.main import app
from cli.staff_work import WorkChange, set_work
from operations import staff
from readmodel.engine import Database
from readmodel.queries import TaskSort
from tests.cli.test_case_cli import cli_for, started
from tests.cli.test_staff_cli import Local
from tests.workflows import harness as workflow_harness
from tests.workflows.harness import CaseHarness

fake_twilio = workflow_harness.fake_twilio
harness = workflow_harness.harness
sqlite_db = workflow_harness.sqlite_db


async def a_collector(db: Database, person_id: str, **work: object) -> None:
    await staff.add(db, person_id, name=person_id.title(), roles=["collector"])
    await staff.set_work(db, person_id, **work)  # type: ignore[arg-type]


async def test_allocate_then_move_a_whole_queue_from_the_command_line(
    harness: CaseHarness,
) -> None:
    cli = cli_for(harness)
    db = harness.db
    await a_collector(db, "c.amy", languages=["zh-CN"], capacity=1)
    await a_collector(db, "c.bob", languages=["zh-CN"], capacity=1)
    await staff.add(db, "r.rui", name="Rui", roles=["risk"])
    accounts = [await started(harness, dpd=40) for _ in range(3)]
    await harness.skip(timedelta(seconds=1))  # the calls' rows

    ran = await cli(allocation_cli.allocate, json_output=True)
    assert ran.code == 0, ran.err
    report = ran.json()
    assert sorted(p["person_id"] for p in report["placed"]) == ["c.amy", "c.bob"]
    [left] = report["unplaced"]
    assert left["why"] == "capacity" and left["task_key"].startswith("case-")
    assert left["message"] == "everyone who speaks zh-CN and works card is at capacity"
    await harness.skip(timedelta(seconds=1))  # the cases' writes

    refused = await cli(lambda env: allocation_cli.reassign(env, "c.amy", "r.rui", "away"))
    assert refused.code == 1
    assert "refused: r.rui does not hold a role that works the operations queue" in refused.err
    moved = await cli(lambda env: allocation_cli.reassign(env, "c.amy", "c.bob", "away"))
    assert moved.code == 0, moved.err
    assert moved.out.startswith("c.amy's queue to c.bob: 1 placed, 0 unplaced, 0 refused")
    await harness.skip(timedelta(seconds=1))  # the cases' writes

    listed = await cli(
        lambda env: tasks.list_tasks(env, assignee="c.bob", sort=TaskSort.PRIORITY),
        json_output=True,
    )
    held = listed.json()["tasks"]
    assert len(held) == 2 and {t["case_id"] for t in held} < {f"case-{a}" for a in accounts}


async def test_staff_work_sets_team_languages_products_and_capacity(sqlite_db: Database) -> None:
    cli = Local(sqlite_db)
    await staff.add(sqlite_db, "ann.li", name="Ann Li", roles=["collector"])

    change = WorkChange(team="east", languages=["zh-CN", "en"], products=["card"], capacity=12)
    ran = await cli(lambda env: set_work(env, "ann.li", change))
    assert ran.code == 0, ran.err
    assert ran.out.strip() == "ann.li: team east, zh-CN, en, card, up to 12 open tasks"
    every = await cli(lambda env: set_work(env, "ann.li", WorkChange(products=[])))
    assert "every product, up to 12 open tasks" in every.out

    too_many = await cli(lambda env: set_work(env, "ann.li", WorkChange(capacity=501)))
    assert too_many.code == 2 and "a capacity is 0 to 500 open tasks, not 501" in too_many.err
    bad = await cli(lambda env: set_work(env, "ann.li", WorkChange(products=["car d"])))
    assert bad.code == 2 and "'car d' is not a product code" in bad.err
    nobody = await cli(lambda env: set_work(env, "no.one", WorkChange(capacity=3)))
    assert nobody.code == 3

    listed = await cli(lambda env: staff_cli.list_staff(env), json_output=True)
    [ann] = listed.json()["staff"]
    assert (ann["team"], ann["languages"], ann["products"], ann["capacity"]) == (
        "east",
        ["zh-CN", "en"],
        [],
        12,
    )


def test_the_commands_and_their_flags_are_on_the_command_line() -> None:
    runner = CliRunner()
    for words, flag in [
        (["tasks", "allocate"], "--json"),
        (["tasks", "reassign"], "--from"),
        (["tasks", "list"], "priority"),
        (["staff", "work"], "--every-product"),
    ]:
        helped = runner.invoke(app, [*words, "--help"], env={"COLUMNS": "200"})
        assert helped.exit_code == 0 and flag in helped.output, (words, helped.output)
