# ruff: noqa: F811  (fixtures are imported by name, below)
"""The risk and legal inboxes and the approvals page in pages, as the case and task lists are
(`tests.api.test_console_lists`): fifty a page, the pager's place and links, the department
kept, a header's click sorts, a value the page cannot take said on it, and a decision taken on
page two goes back to page two."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from html import unescape
from urllib.parse import unquote

import httpx
import pytest

from api import app as api_app
from operations.approvals import ApprovalStatus
from operations.gateway import Gateway
from operations.roles import Role
from readmodel.engine import Database
from readmodel.tables import ApprovalRow, HandoffRow
from tests.api.test_cases_api import settings_for
from tests.api.test_console_lists import link, place
from tests.fakes.temporal_service import unreached_client
from tests.people import (
    COLLEAGUES,
    PASSWORD,
    PEOPLE,
    people,  # noqa: F401
    sqlite_db,  # noqa: F401
)
from tests.readmodel.test_writes import OPENED_AT

SUPERVISOR = PEOPLE[Role.SUPERVISOR]
RISK = 55  # risk handoffs, n minutes after opening: more than a page of fifty
LEGAL = 2
WAITING = 53  # pending requests, the n-th asked n minutes after opening; one more decided
# Risk handoff n's status: a handoff's statuses sort open, escalated, decided.
STATUSES = ("open", "escalated", "decided")


def handoff(n: int, department: str) -> HandoffRow:
    at = OPENED_AT + timedelta(minutes=n)
    return HandoffRow(
        idempotency_key=f"{department}-{n:02d}",
        case_id=f"case-62220000000000{n:02d}",
        department=department,
        status=STATUSES[n % 3] if department == "risk" else "referred",
        reason="hardship",
        created_at=at,
        updated_at=at,
    )


def request(n: int, status: str = ApprovalStatus.PENDING) -> ApprovalRow:
    return ApprovalRow(
        id=n,
        case_id=f"case-62220000000000{n:02d}",
        action="close",
        input={"closure": "written_off", "note": f"request {n}"},
        needs="writing off a case",
        status=status,
        requested_by=COLLEAGUES[Role.SUPERVISOR],
        requested_via="console",
        requested_roles="supervisor",
        requested_at=OPENED_AT + timedelta(minutes=n),
    )


@pytest.fixture
async def app(sqlite_db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The console over a read model alone (Temporal unreachable), a supervisor signed in."""
    async with sqlite_db.session() as session:
        session.add_all(handoff(n, "risk") for n in range(1, RISK + 1))
        session.add_all(handoff(n, "legal") for n in range(1, LEGAL + 1))
        session.add_all(request(n) for n in range(1, WAITING + 1))
        session.add(request(WAITING + 1, ApprovalStatus.REJECTED))
    unreached = Gateway(unreached_client())
    created = api_app.create_app(settings_for("unused"), gateway=unreached, db=sqlite_db)
    transport = httpx.ASGITransport(app=created)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
        signed = await client.post(
            "/console/signin", data={"staff": SUPERVISOR, "password": PASSWORD}
        )
        assert signed.status_code == 303, signed.text
        await client.get("/console/language/en?next=/console/approvals")
        yield client


def handoffs(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-handoff="\w+-(\d+)"', page)]


def requests(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-approval="(\d+)"', page)]


async def test_an_inbox_fifty_a_page_newest_first(app: httpx.AsyncClient) -> None:
    first = (await app.get("/console/inbox/risk")).text
    assert handoffs(first) == list(range(RISK, RISK - 50, -1))
    assert place(first) == (1, 2, RISK) and "Page 1 of 2" in first and "55 in all" in first
    assert 'data-page="previous"' not in first
    assert link(first, 'data-page="next"') == "/console/inbox/risk?page=2"
    second = (await app.get(link(first, 'data-page="next"'))).text
    assert handoffs(second) == [5, 4, 3, 2, 1] and place(second) == (2, 2, RISK)
    assert 'data-page="next"' not in second
    assert link(second, 'data-page="previous"') == "/console/inbox/risk?page=1"
    legal = (await app.get("/console/inbox/legal")).text
    assert handoffs(legal) == [2, 1] and place(legal) == (1, 1, LEGAL)
    assert 'data-page="next"' not in legal


async def test_an_inbox_by_status_its_size_and_order_kept_across_pages(
    app: httpx.AsyncClient,
) -> None:
    first = (await app.get("/console/inbox/risk", params={"per_page": "20"})).text
    by_status = link(first, 'data-sort="status"')
    assert by_status == "/console/inbox/risk?per_page=20&sort=status&order=asc"
    sorted_first = (await app.get(by_status)).text
    by_n = sorted(range(1, RISK + 1), key=lambda n: (STATUSES.index(STATUSES[n % 3]), n))
    assert handoffs(sorted_first) == by_n[:20] and place(sorted_first) == (1, 3, RISK)
    assert re.search(r'aria-sort="ascending"><a href="[^"]+" data-sort="status"', sorted_first)
    second = link(sorted_first, 'data-page="next"')
    assert second == "/console/inbox/risk?sort=status&per_page=20&page=2"
    last = link((await app.get(second)).text, 'data-page="next"')
    assert handoffs((await app.get(last)).text) == by_n[40:]
    oldest = (await app.get(link(first, 'data-sort="created"'))).text
    assert handoffs(oldest) == list(range(1, 21))  # the column sorted turned round


async def test_the_approvals_fifty_a_page_the_longest_waiting_first(
    app: httpx.AsyncClient,
) -> None:
    first = (await app.get("/console/approvals")).text
    assert requests(first) == list(range(1, 51))
    assert place(first) == (1, 2, WAITING) and "53 in all" in first
    assert link(first, 'data-page="next"') == "/console/approvals?page=2"
    second = (await app.get(link(first, 'data-page="next"'))).text
    assert requests(second) == [51, 52, 53] and place(second) == (2, 2, WAITING)
    newest = (await app.get(link(first, 'data-sort="requested"'))).text
    assert requests(newest)[:3] == [53, 52, 51]
    assert link(newest, 'data-page="next"') == "/console/approvals?order=desc&page=2"
    # A decision on page two goes back to page two, in the order it was made from.
    assert '<input type="hidden" name="page" value="2">' in second
    back = {"page": "2", "order": "desc", "per_page": "3"}
    rejected = await app.post("/console/approvals/52/reject", data={"reason": "no", **back})
    assert rejected.status_code == 303
    assert rejected.headers["location"] == "/console/approvals?page=2&per_page=3&order=desc"
    assert unquote(rejected.cookies["collections_flash"]).startswith("52: ")
    after = (await app.get(rejected.headers["location"])).text
    assert requests(after) == [49, 48, 47] and place(after) == (2, 18, WAITING - 1)


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ({"page": "0"}, "Page: must be a whole number, 1 or more"),
        ({"page": "two"}, "Page: must be a whole number, 1 or more"),
        ({"per_page": "0"}, "Per page: 1–200"),
        ({"sort": "reason"}, "Sort by: is not a column the list sorts by"),
        ({"order": "up"}, "Order: must be asc or desc"),
    ],
)
async def test_a_value_the_page_cannot_take_is_said_on_it(
    app: httpx.AsyncClient, query: dict[str, str], said: str
) -> None:
    for path in ("/console/inbox/risk", "/console/inbox/legal", "/console/approvals"):
        page = await app.get(path, params=query)
        assert page.status_code == 400, (path, page.text)
        assert said in unescape(page.text)


async def test_past_the_end_clamped_and_in_chinese(app: httpx.AsyncClient) -> None:
    for path, total in (("/console/inbox/risk", RISK), ("/console/approvals", WAITING)):
        past = await app.get(path, params={"page": "9"})
        assert past.status_code == 200 and "the list ends before it" in past.text
        assert place(past.text) == (9, 2, total)
        assert link(past.text, 'data-page="previous"') == f"{path}?page=2"
        clamped = (await app.get(path, params={"per_page": "10000"})).text
        assert place(clamped) == (1, 1, total) and "per_page=200" in clamped
    await app.get("/console/language/zh?next=/console/approvals")
    chinese = (await app.get("/console/inbox/risk")).text
    assert "第 1 页，共 2 页" in chinese and "共 55 条" in chinese and "下一页" in chinese
    approvals = (await app.get("/console/approvals", params={"page": "2"})).text
    assert "第 2 页，共 2 页" in approvals and "共 53 条" in approvals and "上一页" in approvals
