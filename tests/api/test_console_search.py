# ruff: noqa: F811  (fixtures are imported by name, below)
"""The console's case search reads its days-past-due filters as the API does: a number out of
the API's range is a form error naming the field and the range, never a database error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api import app as api_app
from api.routes.cases import MAX_DAYS_PAST_DUE
from operations.gateway import Gateway
from operations.roles import Role
from readmodel.engine import Database
from tests.api.test_cases_api import settings_for
from tests.fakes.temporal_service import unreached_client
from tests.people import (
    PASSWORD,
    PEOPLE,
    people,  # noqa: F401
    sqlite_db,  # noqa: F401
)


@pytest.fixture
async def browser(sqlite_db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A collector signed in to a console whose search needs only the read model."""
    unreached = Gateway(unreached_client())
    app = api_app.create_app(settings_for("unused"), gateway=unreached, db=sqlite_db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
        signed = await client.post(
            "/console/signin", data={"staff": PEOPLE[Role.OPERATIONS], "password": PASSWORD}
        )
        assert signed.status_code == 303, signed.text
        yield client


@pytest.mark.parametrize("field", ["min_dpd", "max_dpd"])
@pytest.mark.parametrize("typed", ["9223372036854775808", str(MAX_DAYS_PAST_DUE + 1), "-1", "²"])
async def test_a_days_past_due_filter_out_of_range_is_a_form_error(
    browser: httpx.AsyncClient, field: str, typed: str
) -> None:
    page = await browser.get("/console/cases", params={field: typed})
    assert page.status_code == 400, page.text
    assert f"0–{MAX_DAYS_PAST_DUE}" in page.text


async def test_a_days_past_due_filter_in_range_searches(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/console/cases", params={"min_dpd": 0, "max_dpd": MAX_DAYS_PAST_DUE})
    assert page.status_code == 200, page.text
