# ruff: noqa: F811  (fixtures are imported by name, below)
"""The dashboard's performance section over the portfolio of
`tests.readmodel.test_performance` (June 2026): a supervisor sees their team per collector
(or every team), a collector their own row and the center's, and the charts are inline SVG."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from api import app as api_app
from operations.gateway import Gateway
from operations.roles import Role
from readmodel.engine import Database
from tests.api.test_cases_api import settings_for
from tests.fakes.temporal_service import unreached_client
from tests.people import PASSWORD, PEOPLE, people, sqlite_db  # noqa: F401
from tests.readmodel.test_performance import ANN, BOB, CAT, seed

JUNE = {"since": "2026-06-01", "until": "2026-07-01"}


@pytest.fixture
async def app(sqlite_db: Database) -> AsyncIterator[object]:
    await seed(sqlite_db)
    yield api_app.create_app(
        settings_for("unused"), gateway=Gateway(unreached_client()), db=sqlite_db
    )


async def dashboard(app: object, role: Role, **params: str) -> str:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as browser:
        signin = {"staff": PEOPLE[role], "password": PASSWORD}
        assert (await browser.post("/console/signin", data=signin)).status_code == 303
        page = await browser.get("/console/dashboard", params=params)
    assert page.status_code == 200, page.text
    return page.text


def table(page: str) -> dict[str, dict[str, str]]:
    """The performance table: its rows by id, each figure by name."""
    body = page.split('data-table="performance"')[1].split("</table>")[0]
    return {
        key: dict(re.findall(r'data-figure="(\w+)">(.*?)</td>', row, re.S))
        for key, row in re.findall(r'<tr data-level="\w+" data-id="([^"]+)">(.*?)</tr>', body, re.S)
    }


async def test_a_supervisor_sees_the_team_s_figures(app: object) -> None:
    page = await dashboard(app, Role.SUPERVISOR, **JUNE)  # sup.sam, of the north team
    rows = table(page)
    assert list(rows) == [ANN, BOB, "north", "center"]
    assert rows[BOB]["collected"] == "500.00 CNY" and rows[BOB]["complaints"] == "1"
    assert rows[ANN]["contacts"] == "3" and rows[ANN]["collected"] == "–"
    assert rows["north"]["promises_obtained"] == "3"
    assert rows["center"]["collected"] == "650.00 CNY<br>200.00 USD"
    for chart in ("collected_CNY", "collected_USD", "cure_trend"):
        assert f'data-chart="{chart}"' in page
    assert 'data-label="06-10" data-value="50000"' in page  # case 2's payment, in minor units
    assert 'data-cell="M1:closed"' in page and "1 (50%)" in page  # June's roll from M1
    assert "<script" not in page

    every = table(await dashboard(app, Role.SUPERVISOR, **JUNE, team=""))
    assert list(every) == [ANN, CAT, BOB, "north", "south", "center"]


async def test_a_collector_sees_their_own_row_and_the_center_s(app: object) -> None:
    page = await dashboard(app, Role.OPERATIONS, **JUNE, team="south")  # ops.ann
    assert list(table(page)) == [ANN, "center"]
    assert 'name="team"' not in page


async def test_a_window_that_cannot_be_counted_is_said_on_the_page(app: object) -> None:
    page = await dashboard(app, Role.SUPERVISOR, since="2026-07-01", until="2026-06-01")
    assert "data-window-error" in page and "since must be before until" in page
    assert "data-performance" not in page
    assert "data-performance" not in await dashboard(app, Role.ENGINEER)
