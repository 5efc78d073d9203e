# ruff: noqa: F811  (fixtures are imported by name, below)
"""`GET /performance` and `/performance.csv` over the portfolio of
`tests.readmodel.test_performance` (June 2026): a supervisor sees every collector and team, a
collector only their own row and the center's; a window that cannot be counted is a 400."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import httpx
import pytest

from api import app as api_app
from operations.gateway import Gateway
from operations.roles import Role
from readmodel.engine import Database
from tests.api.test_cases_api import settings_for
from tests.fakes.temporal_service import unreached_client
from tests.people import as_role, people, sqlite_db  # noqa: F401
from tests.readmodel.test_performance import ANN, BOB, CAT, seed

JUNE = {"since": "2026-06-01", "until": "2026-07-01", "months": "2"}


@pytest.fixture
async def api(sqlite_db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The API over the seeded read model alone (Temporal unreachable)."""
    await seed(sqlite_db)
    app = api_app.create_app(
        settings_for("unused"), gateway=Gateway(unreached_client()), db=sqlite_db
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


async def test_a_supervisor_sees_every_collector_and_team(api: httpx.AsyncClient) -> None:
    answer = await api.get("/performance", params=JUNE, headers=as_role(Role.SUPERVISOR))
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert (document["since"], document["until"]) == (
        "2026-06-01T00:00:00+00:00",
        "2026-07-01T00:00:00+00:00",
    )
    rows = {row["person_id"]: row for row in document["collectors"]}
    assert list(rows) == [ANN, CAT, BOB]
    assert rows[BOB]["collected"] == {"CNY": 50_000} and rows[BOB]["complaints"] == 1
    assert rows[CAT]["collected"] == {"CNY": 5_000, "USD": 20_000}
    assert [(t["team"], t["people"], t["contacts"]) for t in document["teams"]] == [
        ("north", 2, 4),
        ("south", 1, 1),
    ]
    center = document["center"]
    assert center["collected"] == {"CNY": 65_000, "USD": 20_000} and center["contacts"] == 6
    assert center["recovery_rate"]["USD"] == {
        "numerator": 20_000,
        "denominator": 20_000,
        "value": 1.0,
    }
    june = center["roll_rates_by_month"][-1]
    assert june["month"] == "2026-06" and june["from"]["M1"]["cases"] == 2
    assert june["from"]["M1"]["to"]["closed"] == {"cases": 1, "share": 0.5}
    assert [
        (m["month"], m["numerator"], m["denominator"]) for m in center["cure_rate_by_month"]
    ] == [
        ("2026-05", 0, 5),
        ("2026-06", 2, 6),
    ]
    assert len(center["collected_per_day"]) == 30

    north = await api.get(
        "/performance", params={**JUNE, "team": "north"}, headers=as_role(Role.SUPERVISOR)
    )
    assert [row["person_id"] for row in north.json()["collectors"]] == [ANN, BOB]


async def test_the_csv_carries_the_same_figures(api: httpx.AsyncClient) -> None:
    answer = await api.get("/performance.csv", params=JUNE, headers=as_role(Role.SUPERVISOR))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["level"], r["id"]) for r in rows] == [
        ("collector", ANN),
        ("collector", CAT),
        ("collector", BOB),
        ("team", "north"),
        ("team", "south"),
        ("center", "center"),
    ]
    center = rows[-1]
    assert (center["collected_CNY"], center["collected_USD"], center["cases_cured"]) == (
        "65000",
        "20000",
        "2",
    )
    assert rows[0]["collected_CNY"] == "0" and rows[2]["promises_kept"] == "1"

    daily = await api.get(
        "/performance.csv", params={**JUNE, "part": "daily"}, headers=as_role(Role.SUPERVISOR)
    )
    lines = daily.text.splitlines()
    assert lines[0] == "day,collected_CNY,collected_USD" and "2026-06-10,50000,0" in lines
    cure = await api.get(
        "/performance.csv", params={**JUNE, "part": "cure_trend"}, headers=as_role(Role.SUPERVISOR)
    )
    assert cure.text.splitlines() == [
        "month,cured,open_cases,rate",
        "2026-05,0,5,0.0000",
        "2026-06,2,6,0.3333",
    ]


async def test_a_collector_sees_only_their_own_row_and_the_center(
    api: httpx.AsyncClient,
) -> None:
    collector = as_role(Role.OPERATIONS)  # ops.ann
    document = (await api.get("/performance", params=JUNE, headers=collector)).json()
    assert [row["person_id"] for row in document["collectors"]] == [ANN]
    assert document["teams"] == [] and document["center"]["contacts"] == 6
    asked = {**JUNE, "team": "south"}  # another team: still their own row only
    assert [
        row["person_id"]
        for row in (await api.get("/performance", params=asked, headers=collector)).json()[
            "collectors"
        ]
    ] == [ANN]
    rows = list(
        csv.DictReader(
            io.StringIO((await api.get("/performance.csv", params=JUNE, headers=collector)).text)
        )
    )
    assert [(r["level"], r["id"]) for r in rows] == [("collector", ANN), ("center", "center")]
    assert (await api.get("/performance", headers=as_role(Role.RISK))).status_code == 403


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "2026-07-01", "until": "2026-06-01"}, "since must be before until"),
        ({"since": "June"}, "since: neither a date (YYYY-MM-DD)"),
        ({"since": "2000-01-01", "until": "2026-01-01"}, "at most 3660 days"),
        ({"since": "9999-12-01", "until": "9999-12-31"}, "until: a date from 1970 to 2999"),
    ],
)
async def test_a_window_that_cannot_be_counted_is_refused(
    api: httpx.AsyncClient, params: dict[str, str], message: str
) -> None:
    for path in ("/performance", "/performance.csv"):
        answer = await api.get(path, params=params, headers=as_role(Role.SUPERVISOR))
        assert answer.status_code == 400 and message in answer.json()["detail"]
