"""The web console in headless Chromium (Debian's `chromium`, driven by Playwright with
`executable_path`: nothing is downloaded) against the running system: the `collections api`
and `collections worker` processes on the session's dev server, as in production.

Each person signs in as themselves through the sign-in form (the directory is seeded with
`tests.staffing`; the test's own API calls use their tokens). A collector finds a case, sees
its customer's phone number only when giving a reason, records a promise and sees it on the
timeline under their own name; a bad amount shows its error; a collector cannot open the legal
inbox; a supervisor asks for a legal referral from the task list and a second supervisor
approves it on the approvals page; a legal user accepts it and records a judgment, and their
look at the dossier is in the access log; the dashboard draws its charts from the cases.
Screenshots of the main pages are written to `docs/console/` when `CONSOLE_SCREENSHOTS=1`
(the README shows them).

The worker runs `fast_legal.toml` (a day is a second): a case reaches legal within a minute.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from operations.roles import Role
from readmodel.engine import Database
from tests.integration.processes import api_and_worker
from tests.requirements import unavailable
from tests.staffing import PASSWORD, PEOPLE, Staffed, add_person, seed_staff

playwright = pytest.importorskip("playwright.async_api", reason="playwright is a dev dependency")

pytestmark = pytest.mark.integration

POLICY = Path(__file__).parents[1] / "integration" / "policies" / "fast_legal.toml"
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "console"
COLLECTOR, SUPERVISOR, LEGAL = PEOPLE[Role.OPERATIONS], PEOPLE[Role.SUPERVISOR], PEOPLE[Role.LEGAL]
CHECKER = "sup.sue"  # the second supervisor, who approves what the first asks
MOBILE = "+8613712345678"
RUN = f"{time.time_ns() % 10**9:09d}"
EVIDENCE_GAP = 30.0  # seconds: 30 one-second days between two effective contacts


def chromium() -> str | None:
    return (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )


if chromium() is None:
    unavailable(
        "browser",
        "no Chromium: install Debian's chromium package (.ci/run does) or set CHROMIUM",
        module=True,
    )


def account_no(n: int) -> str:
    return f"6233{n:02d}{RUN}"


def intake_row(
    account: str, *, dpd: int, strategy: str = "default", **changes: Any
) -> dict[str, Any]:
    row = {
        "account_no": account,
        "customer_ref": f"CUST-{account[-6:]}",
        "customer_name": "王芳",
        "mobile": MOBILE,
        "language": "zh-CN",
        "time_zone": "Asia/Shanghai",
        "product": "card",
        "currency": "CNY",
        "outstanding_minor": 500_000,
        "overdue_minor": 120_000,
        "oldest_due_date": (date.today() - timedelta(days=dpd)).isoformat(),
        "strategy": strategy,
    }
    return {**row, **changes}


@dataclass
class Stack:
    base_url: str
    http: httpx.AsyncClient
    staffed: Staffed

    async def api(self, method: str, path: str, role: Role, body: Any = None, **params: Any) -> Any:
        """A call as the role's test person, with their token."""
        answer = await self.http.request(
            method, path, json=body, params=params, headers=self.staffed.headers(role)
        )
        assert answer.is_success, (method, path, answer.status_code, answer.text)
        return answer.json()

    async def eventually(self, check: Any, what: str, within: float = 60.0) -> Any:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            found = await check()
            if found:
                return found
            await asyncio.sleep(0.25)
        raise AssertionError(f"{what}: not within {within:g} s")

    async def started(self, row: dict[str, Any]) -> str:
        await self.api("POST", "/cases", Role.OPERATIONS, row)
        account = str(row["account_no"])

        async def assessed() -> Any:
            view = await self.api("GET", f"/cases/{account}", Role.OPERATIONS)
            return view["case"] is not None and view["status"] is not None

        await self.eventually(assessed, f"{account} assessed")
        return account

    async def open_task(self, account: str, kind: str) -> dict[str, Any]:
        async def found() -> Any:
            listed = await self.api(
                "GET", "/tasks", Role.SUPERVISOR, case_id=f"case-{account}", status="open"
            )
            return next((t for t in listed if t["kind"] == kind), None)

        task: dict[str, Any] = await self.eventually(found, f"an open {kind} on {account}")
        return task


@pytest.fixture(scope="module")
async def stack(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    tmp = tmp_path_factory.mktemp("console-browser")
    address = dev_env.client.service_client.config.target_host
    async with (
        api_and_worker(address, tmp, queues=f"console-{RUN}", keys={}, policy=POLICY) as url,
        httpx.AsyncClient(base_url=url, timeout=30.0) as http,
    ):
        # The API's own database (`api_and_worker` makes it there): one person per role, and
        # a second supervisor to approve what the first asks.
        db = Database(f"sqlite+aiosqlite:///{tmp / 'collections.db'}")
        try:
            staffed = await seed_staff(db)
            await add_person(db, CHECKER, [Role.SUPERVISOR])
        finally:
            await db.dispose()
        yield Stack(url, http, staffed)


@pytest.fixture(scope="module")
async def browser(stack: Stack) -> AsyncIterator[Any]:
    async with playwright.async_playwright() as driver:
        launched = await driver.chromium.launch(
            executable_path=chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        await launched.close()


async def signed_in(browser: Any, stack: Stack, person: str, language: str = "en") -> Any:
    """A fresh browser, signed in through the form as `person`; the header names them."""
    context = await browser.new_context(
        base_url=stack.base_url, viewport={"width": 1280, "height": 900}, locale="en-US"
    )
    page = await context.new_page()
    await page.goto(f"/console/language/{language}?next=/console/signin")
    await page.fill("input[name=staff]", person)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/console/cases")
    assert await page.locator("[data-staff]").inner_text() == person
    return page


async def screenshot(page: Any, name: str) -> None:
    if os.environ.get("CONSOLE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def test_a_collector_finds_a_case_records_a_promise_and_sees_a_bad_amount_refused(
    stack: Stack, browser: Any
) -> None:
    account = await stack.started(intake_row(account_no(1), dpd=12))
    await stack.started(intake_row(account_no(2), dpd=45, outstanding_minor=2_400_000))
    page = await signed_in(browser, stack, COLLECTOR)
    await page.fill("input[name=account]", account)
    await page.click("form.filters button")
    await page.click(f"tr[data-account='{account}'] a")
    await page.wait_for_url(f"**/console/cases/{account}")
    assert await page.get_attribute("[data-stage]", "data-stage") == "early"

    # The customer's phone number: only with a reason, on that one page.
    assert MOBILE not in await page.content()
    reveal = page.locator("form[data-form=contact-details]")
    await reveal.locator("select[name=reason]").select_option("calling the customer")
    await reveal.locator("button").click()
    await page.locator("[data-contact-mobile]").wait_for()
    assert await page.locator("[data-contact-mobile]").inner_text() == MOBILE
    assert await page.locator("[data-contact-name]").inner_text() == "王芳"
    await page.goto(f"/console/cases/{account}")
    assert MOBILE not in await page.content()

    promise = page.locator("form[data-form=promise_to_pay]")
    promised = (date.today() + timedelta(days=5)).isoformat()
    await promise.locator("input[name=amount]").fill("-5")
    await promise.locator("input[name=promised_date]").fill(promised)
    await promise.locator("button").click()
    refusal = page.locator("[data-error=promise_to_pay]")
    await refusal.wait_for()
    assert "amount" in (await refusal.inner_text())
    assert (
        await page.locator("form[data-form=promise_to_pay] input[name=amount]").input_value()
        == "-5"
    )
    await screenshot(page, "case-refused")

    promise = page.locator("form[data-form=promise_to_pay]")
    await promise.locator("input[name=amount]").fill("1,200.50")
    await promise.locator("input[name=promised_date]").fill(promised)
    await promise.locator("button").click()
    await page.wait_for_url(f"**/console/cases/{account}")
    answer = await page.locator("[data-flash]").inner_text()
    assert "promise" in answer.lower()
    assert "1,200.50 CNY" in await page.locator("[data-promise]").inner_text()
    promised_by = page.locator("[data-timeline] tr", has=page.locator("[data-event=promise]"))
    assert await promised_by.locator("[data-actor]").inner_text() == f"{COLLECTOR} (console)"
    await screenshot(page, "case")

    await page.goto("/console/cases")
    await screenshot(page, "cases")
    assert await page.locator("[data-nav=legal]").count() == 0
    response = await page.goto("/console/inbox/legal")
    assert response.status == 403
    assert await page.locator("[data-forbidden]").count() == 1
    await page.context.close()


async def test_a_referral_is_approved_accepted_and_judged_in_the_browser(
    stack: Stack, browser: Any
) -> None:
    # 95 days past due, medium segment: the collectors and legal at once (see fast_legal).
    account = await stack.started(
        intake_row(
            account_no(3), dpd=95, strategy="", outstanding_minor=1_200_000, overdue_minor=400_000
        )
    )
    call = await stack.open_task(account, "collector_call")
    refused = {"collector": COLLECTOR, "outcome": "refused"}
    await stack.api("POST", f"/tasks/{call['task_key']}/complete", Role.OPERATIONS, refused)
    first = time.monotonic()

    # The second effective contact, 30 "days" later, through the browser's task list.
    collector = await signed_in(browser, stack, COLLECTOR)
    await asyncio.sleep(max(0.0, first + EVIDENCE_GAP + 0.5 - time.monotonic()))
    second = await stack.open_task(account, "collector_call")
    await collector.goto("/console/tasks?view=team")
    row = collector.locator(f"tr[data-task='{second['task_key']}']")
    await row.locator("[data-claim]").click()
    await collector.wait_for_url("**/console/tasks?view=team")

    async def claimed() -> Any:  # the case answered; its row follows a moment later
        mine = await stack.api("GET", "/tasks", Role.OPERATIONS, assignee=COLLECTOR)
        return any(t["task_key"] == second["task_key"] for t in mine)

    await stack.eventually(claimed, "the claimed call in the collector's queue")
    await collector.goto("/console/tasks?view=mine")
    await screenshot(collector, "tasks")
    row = collector.locator(f"tr[data-task='{second['task_key']}']")
    await row.locator("summary").click()
    await row.locator("select[name=outcome]").select_option("refused")
    await row.locator("form[data-complete] button").click()
    await collector.wait_for_url("**/console/tasks?view=mine")
    assert "refused" in (await collector.locator("[data-flash]").inner_text()).lower()
    await collector.context.close()

    # Approving a legal referral takes two supervisors: one asks, the other approves.
    approval = await stack.open_task(account, "supervisor_approval")
    supervisor = await signed_in(browser, stack, SUPERVISOR, language="zh")
    await supervisor.goto("/console/tasks?view=team")
    row = supervisor.locator(f"tr[data-task='{approval['task_key']}']")
    await row.locator("summary").click()
    await screenshot(supervisor, "tasks-zh")
    await row.locator("select[name=outcome]").select_option("approved")
    await row.locator("form[data-complete] button").click()
    await supervisor.wait_for_url("**/console/tasks?view=team")
    asked = await supervisor.locator("[data-flash]").inner_text()
    assert "approving a legal referral needs a second person" in asked
    await supervisor.context.close()

    checker = await signed_in(browser, stack, CHECKER)
    await checker.click("[data-nav=approvals]")
    await checker.wait_for_url("**/console/approvals")
    request = checker.locator(f"tr[data-requested-by='{SUPERVISOR}']", has_text=account)
    await screenshot(checker, "approvals")
    await request.locator("form[data-approve] button").click()
    await checker.wait_for_url("**/console/approvals")
    assert "referred to the legal department" in await checker.locator("[data-flash]").inner_text()
    await checker.context.close()

    async def referred() -> Any:
        listed = await stack.api(
            "GET", "/handoffs", Role.LEGAL, department="legal", case_id=f"case-{account}"
        )
        return listed[0]["handoff_key"] if listed and listed[0]["status"] == "referred" else None

    key = await stack.eventually(referred, "the legal referral")
    legal = await signed_in(browser, stack, LEGAL)
    await legal.click("[data-nav=legal]")
    await screenshot(legal, "legal-inbox")
    await legal.click(f"tr[data-handoff='{key}'] a")
    await legal.wait_for_url(f"**/console/inbox/legal/{key}")
    await legal.locator("form[data-form=accept] button").click()
    await legal.wait_for_url(f"**/console/inbox/legal/{key}")
    assert await legal.locator("[data-accepted-by]").inner_text() == LEGAL
    for kind, amount in (("filed", ""), ("judgment", "9,000")):
        form = legal.locator("form[data-form=proceedings]")
        await form.locator("select[name=kind]").select_option(kind)
        await form.locator("input[name=amount]").fill(amount)
        await form.locator("button").click()
        await legal.wait_for_url(f"**/console/inbox/legal/{key}")
    proceedings = await legal.locator("[data-proceedings]").inner_text()
    assert "Filed" in proceedings and "Judgment" in proceedings and "9,000.00 CNY" in proceedings

    async def dossier_shown() -> bool:  # built by an activity once the referral starts
        await legal.reload()
        return bool(await legal.locator("[data-dossier]").count())

    await stack.eventually(dossier_shown, "the referral's dossier on its page")
    await screenshot(legal, "legal-referral")
    await legal.context.close()

    detail = await stack.api("GET", f"/handoffs/{key}", Role.LEGAL)
    assert [p["kind"] for p in detail["referral"]["proceedings"]] == ["filed", "judgment"]
    assert detail["referral"]["accepted_by"] == LEGAL
    seen = await stack.api("GET", f"/cases/{account}/access-log", Role.SUPERVISOR)
    assert {(s["person_id"], s["via"], s["what"], s["reason"]) for s in seen} == {
        (LEGAL, "console", "dossier", f"legal handoff work ({key})")
    }


async def test_the_dashboard_draws_its_charts_from_the_cases(stack: Stack, browser: Any) -> None:
    await stack.started(intake_row(account_no(4), dpd=75))
    kpis = await stack.api("GET", "/kpis", Role.ENGINEER)
    page = await signed_in(browser, stack, SUPERVISOR)
    await page.click("[data-nav=dashboard]")
    bars = page.locator("svg[data-chart=bucket] rect.bar")
    await bars.first.wait_for(state="attached")  # the click only starts the navigation
    drawn = {
        await bar.get_attribute("data-label"): float(await bar.get_attribute("data-value"))
        for bar in await bars.all()
    }
    assert drawn == {k: float(v) for k, v in kpis["by_bucket"].items()}
    assert drawn["M3"] >= 1 and sum(drawn.values()) >= 3
    stages = page.locator("svg[data-chart=stage] rect.bar")
    assert await stages.count() == len(kpis["by_stage"])
    widths = [float(await bar.get_attribute("width")) for bar in await bars.all()]
    assert max(widths) > 0  # drawn, not just listed
    await screenshot(page, "dashboard")
    await page.context.close()


async def test_a_collector_works_a_call_from_its_page_and_records_a_promise(
    stack: Stack, browser: Any
) -> None:
    """A supervisor puts the call in the collector's queue; from their queue to the task's
    page: the number only once revealed, the script's disclosures, and the call's outcome with
    right-party contact, its length and a promise; then the supervisor sees it in the team's
    figures on the dashboard."""
    account = await stack.started(intake_row(account_no(5), dpd=40))
    key = (await stack.open_task(account, "collector_call"))["task_key"]
    counted = ("contacts", "right_party_contacts", "promises_obtained")

    async def figures_now() -> dict[str, int]:
        """The collector's figures as the API counts them (other tests of this module add
        their own calls and promises)."""
        report = await stack.api("GET", "/performance", Role.SUPERVISOR)
        rows = [r for r in report["collectors"] if r["person_id"] == COLLECTOR]
        return {name: rows[0][name] if rows else 0 for name in counted}

    before = await figures_now()
    await stack.api("POST", f"/tasks/{key}/assign", Role.SUPERVISOR, {"assignee": COLLECTOR})

    async def in_their_queue() -> Any:
        return await stack.api("GET", "/tasks", Role.OPERATIONS, assignee=COLLECTOR)

    await stack.eventually(in_their_queue, "the call in the collector's queue")
    page = await signed_in(browser, stack, COLLECTOR, language="zh")
    await page.click("[data-nav=tasks]")  # their own queue first
    await page.locator(f"tr[data-task='{key}'] [data-work]").click()
    await page.wait_for_url(f"**/console/tasks/{key}/work")
    assert MOBILE not in await page.content()
    assert await page.locator("[data-script] [data-disclosure]").count() == 6
    assert await page.locator("[data-call-window]").count() == 1

    await page.locator("[data-reveal]").click()
    await page.locator("[data-contact-mobile]").wait_for()
    assert await page.locator("[data-contact-mobile]").inner_text() == MOBILE
    assert await page.get_attribute("[data-tel]", "href") == f"tel:{MOBILE}"
    form = page.locator("form[data-form=outcome]")
    await form.locator("select[name=outcome]").select_option("promise_made")
    await form.locator("input[name=right_party][value=yes]").check()
    await form.locator("input[name=call_length]").fill("4:05")
    await form.locator("input[name=promised_amount]").fill("800")
    await form.locator("input[name=promised_date]").fill(
        (date.today() + timedelta(days=5)).isoformat()
    )
    await form.locator("input[name=note]").fill("周五还款")
    await screenshot(page, "work-zh")
    await form.locator("button").click()
    await page.wait_for_url(f"**/console/tasks/{key}/work")
    assert "promise recorded" in await page.locator("[data-flash]").inner_text()
    assert MOBILE not in await page.content()
    await page.context.close()

    async def done() -> Any:
        listed = await stack.api(
            "GET", "/tasks", Role.OPERATIONS, case_id=f"case-{account}", status="done"
        )
        return listed[0] if listed else None

    call = await stack.eventually(done, "the call done")
    assert (call["outcome"], call["right_party"], call["call_seconds"]) == (
        "promise_made",
        True,
        245,
    )
    seen = await stack.api("GET", f"/cases/{account}/access-log", Role.SUPERVISOR)
    assert [(s["person_id"], s["what"], s["reason"]) for s in seen] == [
        (COLLECTOR, "contact_details", f"calling the customer (task {key})")
    ]

    supervisor = await signed_in(browser, stack, SUPERVISOR)
    await supervisor.click("[data-nav=dashboard]")
    theirs = supervisor.locator(
        f"[data-table=performance] tr[data-level=collector][data-id='{COLLECTOR}']"
    )
    await theirs.wait_for()
    figures = {
        name: int(await theirs.locator(f"[data-figure={name}]").inner_text()) for name in counted
    }
    assert figures == {name: before[name] + 1 for name in counted}  # this call, this promise
    await screenshot(supervisor, "dashboard-team")
    await supervisor.context.close()
