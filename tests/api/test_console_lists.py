# ruff: noqa: F811  (fixtures are imported by name, below)
"""The console's case and task lists in pages: page 2 shows the next rows, a header's click
sorts, the filters follow every link, a value the list cannot take is said on the page; and the
API's lists take the same order and an offset."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from html import unescape

import httpx
import pytest

from api import app as api_app
from api.console.values import GROUPS, TASK_KINDS, TASK_OUTCOMES, TASK_STATUSES
from models.case_writes import CaseWrite
from models.contracts import Stage
from models.strategy import Segment
from models.tasks import TaskKind, TaskOutcome, TaskStatus
from operations.gateway import Gateway
from operations.roles import Role
from readmodel import writes
from readmodel.engine import Database
from tests.api.test_cases_api import settings_for
from tests.fakes.temporal_service import unreached_client
from tests.people import (
    PASSWORD,
    PEOPLE,
    as_role,
    people,  # noqa: F401
    sqlite_db,  # noqa: F401
)
from tests.readmodel.test_queries import task
from tests.readmodel.test_writes import OPENED_AT, snapshot

COLLECTOR = PEOPLE[Role.OPERATIONS]


def account(n: int) -> str:
    return f"62220000000000{n:02d}"


async def seed(db: Database) -> None:
    """Seven cases: n days past due 10 * n, changed n hours after opening; the odd ones early,
    the even ones with a collector; the first low risk, the others medium. The last has five
    open tasks on the operations queue, deadlines a day apart from t5's; t2 is a complaint."""
    for n in range(1, 8):
        case_id = f"case-{account(n)}"
        written = replace(
            snapshot(OPENED_AT + timedelta(hours=n)),
            case_id=case_id,
            account_no=account(n),
            days_past_due=10 * n,
            stage=Stage.EARLY if n % 2 else Stage.COLLECTOR,
            segment=Segment.LOW if n == 1 else Segment.MEDIUM,
        )
        tasks = tuple(
            task(
                t,
                key=f"{case_id}/t{t}",
                case_id=case_id,
                kind=TaskKind.COMPLAINT if t == 2 else TaskKind.COLLECTOR_CALL,
            )
            for t in range(1, 6)
            if n == 7
        )
        await writes.write_case(db, write=CaseWrite(snapshot=written, tasks=tasks))


@pytest.fixture
async def app(sqlite_db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The API and its console over a read model alone (Temporal unreachable)."""
    await seed(sqlite_db)
    unreached = Gateway(unreached_client())
    created = api_app.create_app(settings_for("unused"), gateway=unreached, db=sqlite_db)
    transport = httpx.ASGITransport(app=created)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
        yield client


@pytest.fixture
async def browser(app: httpx.AsyncClient) -> httpx.AsyncClient:
    """A collector signed in, reading English."""
    signed = await app.post("/console/signin", data={"staff": COLLECTOR, "password": PASSWORD})
    assert signed.status_code == 303, signed.text
    await app.get("/console/language/en?next=/console/cases")
    return app


def accounts(page: str) -> list[int]:
    return [int(n[-2:]) for n in re.findall(r'data-account="(\d+)"', page)]


def task_numbers(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-task="[^"]*/t(\d+)"', page)]


def link(page: str, marker: str) -> str:
    """The href of the first link carrying `marker` (an attribute such as data-sort="dpd")."""
    found = re.search(rf'<a href="([^"]+)"[^>]*{marker}', page)
    assert found, f"no link {marker}"
    return unescape(found.group(1))


def place(page: str) -> tuple[int, int, int]:
    """Page n of m, and the total, as the pager says them."""
    found = re.search(r'data-page-number="(\d+)" data-pages="(\d+)"', page)
    total = re.search(r'data-total="(\d+)"', page)
    assert found and total
    return int(found.group(1)), int(found.group(2)), int(total.group(1))


async def test_page_two_shows_the_next_rows(browser: httpx.AsyncClient) -> None:
    query = {"sort": "dpd", "order": "desc", "per_page": "3"}
    first = (await browser.get("/console/cases", params=query)).text
    assert accounts(first) == [7, 6, 5]
    assert place(first) == (1, 3, 7) and "Page 1 of 3" in first and "7 in all" in first
    assert 'data-page="previous"' not in first
    second = await browser.get(link(first, 'data-page="next"'))
    assert accounts(second.text) == [4, 3, 2] and place(second.text) == (2, 3, 7)
    last = await browser.get(link(second.text, 'data-page="next"'))
    assert accounts(last.text) == [1] and 'data-page="next"' not in last.text
    back = await browser.get(link(last.text, 'data-page="previous"'))
    assert accounts(back.text) == [4, 3, 2]


async def test_a_header_click_sorts_and_a_second_turns_it_round(
    browser: httpx.AsyncClient,
) -> None:
    page = (await browser.get("/console/cases")).text
    assert accounts(page) == [7, 6, 5, 4, 3, 2, 1]  # most recently changed first
    assert 'aria-sort="descending"><a href="' in page
    by_dpd = (await browser.get(link(page, 'data-sort="dpd"'))).text
    assert accounts(by_dpd) == [7, 6, 5, 4, 3, 2, 1]  # the most days past due first
    assert re.search(r'aria-sort="descending"><a href="[^"]+" data-sort="dpd"', by_dpd)
    turned = (await browser.get(link(by_dpd, 'data-sort="dpd"'))).text
    assert accounts(turned) == [1, 2, 3, 4, 5, 6, 7]
    by_stage = (await browser.get(link(turned, 'data-sort="stage"'))).text
    assert accounts(by_stage) == [1, 3, 5, 7, 2, 4, 6]  # early before collector, then by id


async def test_the_filters_are_kept_across_pages_and_orders(browser: httpx.AsyncClient) -> None:
    query = {"stage": "early", "segment": "medium", "per_page": "2", "sort": "dpd", "order": "asc"}
    first = (await browser.get("/console/cases", params=query)).text
    assert accounts(first) == [3, 5] and place(first) == (1, 2, 3)
    second = link(first, 'data-page="next"')
    for kept in ("stage=early", "segment=medium", "per_page=2", "sort=dpd", "order=asc", "page=2"):
        assert kept in second
    assert accounts((await browser.get(second)).text) == [7]
    by_updated = link(first, 'data-sort="updated"')
    assert "stage=early" in by_updated and "segment=medium" in by_updated
    assert "page=" not in by_updated.replace("per_page=", "")
    assert accounts((await browser.get(by_updated)).text) == [7, 5]
    # A new search starts at page 1, in the order and page size already chosen.
    assert '<input type="hidden" name="sort" value="dpd">' in first
    assert '<input type="hidden" name="per_page" value="2">' in first


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ({"page": "0"}, "Page: must be a whole number, 1 or more"),
        ({"page": "-1"}, "Page: must be a whole number, 1 or more"),
        ({"page": "two"}, "Page: must be a whole number, 1 or more"),
        ({"page": "9" * 5000}, "Page: must be a whole number, 1 or more"),
        ({"per_page": "0"}, "Per page: 1–200"),
        ({"per_page": "lots"}, "Per page: "),
        ({"sort": "customer_name"}, "Sort by: is not a column the list sorts by"),
        ({"order": "up"}, "Order: must be asc or desc"),
    ],
)
async def test_a_value_the_list_cannot_take_is_said_on_the_page(
    browser: httpx.AsyncClient, query: dict[str, str], said: str
) -> None:
    for path in ("/console/cases", "/console/tasks"):
        page = await browser.get(path, params=query)
        assert page.status_code == 400, page.text
        assert said in unescape(page.text)


async def test_past_the_end_the_page_says_so_and_a_large_size_is_clamped(
    browser: httpx.AsyncClient,
) -> None:
    past = await browser.get("/console/cases", params={"page": "999999999", "per_page": "3"})
    assert past.status_code == 200 and accounts(past.text) == []
    assert "the list ends before it" in past.text and place(past.text) == (999999999, 3, 7)
    assert "page=3" in link(past.text, 'data-page="previous"')  # back to the last page
    clamped = await browser.get("/console/cases", params={"per_page": "10000"})
    assert clamped.status_code == 200 and len(accounts(clamped.text)) == 7
    assert "per_page=200" in link(clamped.text, 'data-sort="dpd"')


async def test_the_tasks_in_pages_sorted_their_codes_in_the_readers_language(
    browser: httpx.AsyncClient,
) -> None:
    query = {"view": "team", "per_page": "2"}
    first = (await browser.get("/console/tasks", params=query)).text
    assert task_numbers(first) == [5, 4] and place(first) == (1, 3, 5)
    second = link(first, 'data-page="next"')
    assert "view=team" in second
    assert task_numbers((await browser.get(second)).text) == [3, 2]
    by_kind = (await browser.get(link(first, 'data-sort="kind"'))).text
    assert task_numbers(by_kind) == [1, 3]  # collector calls before the complaint, by id
    assert "sort=kind" in link(by_kind, 'data-view="mine"')  # the other view, same order
    # A claim goes back to the page and order it was made from.
    claim_on_page_two = (await browser.get(link(by_kind, 'data-page="next"'))).text
    assert '<input type="hidden" name="page" value="2">' in claim_on_page_two
    assert '<input type="hidden" name="sort" value="kind">' in claim_on_page_two
    form = {"task_key": f"case-{account(7)}/t2", "view": "team", "page": "2", "sort": "kind"}
    claimed = await browser.post("/console/tasks/claim", data=form)  # Temporal is unreachable
    assert claimed.headers["location"] == "/console/tasks?view=team&page=2&sort=kind"
    zh = await browser.get("/console/language/zh?next=/console/tasks")
    assert zh.status_code in (302, 303, 307)
    chinese = (await browser.get("/console/tasks", params={"view": "team", "sort": "kind"})).text
    assert "投诉处理" in chinese and "催收电话" in chinese and "待处理" in chinese
    assert "第 1 页，共 1 页" in chinese and "共 5 条" in chinese


async def test_the_api_lists_take_an_order_and_an_offset(app: httpx.AsyncClient) -> None:
    headers = as_role(Role.OPERATIONS)
    query = {"sort": "dpd", "order": "asc", "offset": "2", "limit": "3"}
    cases = await app.get("/cases", params=query, headers=headers)
    assert cases.status_code == 200, cases.text
    assert [int(c["account_no"][-2:]) for c in cases.json()] == [3, 4, 5]
    newest = await app.get("/cases", params={"limit": "2"}, headers=headers)
    assert [int(c["account_no"][-2:]) for c in newest.json()] == [7, 6]
    # However few a page holds, the header says how many the filters select in all.
    assert (cases.headers["x-total-count"], newest.headers["x-total-count"]) == ("7", "7")
    older = await app.get("/cases", params={"min_dpd": "36500"}, headers=headers)
    assert (older.json(), older.headers["x-total-count"]) == ([], "0")
    tasks = await app.get(
        "/tasks", params={"sort": "kind", "order": "desc", "offset": "1"}, headers=headers
    )
    assert tasks.status_code == 200, tasks.text
    assert [t["task_key"][-2:] for t in tasks.json()] == ["t5", "t4", "t3", "t1"]
    for path in ("/cases", "/tasks"):
        for bad in ({"sort": "nope"}, {"order": "up"}, {"offset": "-1"}, {"offset": "9" * 30}):
            refused = await app.get(path, params=bad, headers=headers)
            assert refused.status_code == 422, (path, bad, refused.text)


def test_every_task_code_has_a_label_of_its_own() -> None:
    """Both languages' words are checked with every table (`tests/api/test_console.py`)."""
    assert set(TASK_KINDS) == {k.value for k in TaskKind}
    assert set(TASK_STATUSES) == {s.value for s in TaskStatus}
    assert set(TASK_OUTCOMES) == {o.value for o in TaskOutcome}
    assert set(GROUPS["queue"]) == {"operations", "supervisor"}
