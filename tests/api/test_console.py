"""The web console's pages and forms against the real case, risk and legal workflows on the
time-skipping server: sign-in, roles, a collector's search, promise and refusals shown in
place, a supervisor's approval from the task list, legal's acceptance and judgment, and the
dashboard drawn from the read model. (`tests/browser` drives the same pages in Chromium.)
A case's page over every field of its status, and the payment form's input, are tested against
a stand-in case (`tests.cli.test_case_cli.StandInCase`)."""

from __future__ import annotations

import contextlib
import dataclasses
import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from api import app as api_app
from api.console.clock import offset_label
from api.console.i18n import LABELS, STAGES, TERMS
from api.console.values import GROUPS, NEXT_ACTIONS
from config.settings import load_settings
from models.case_events import KINDS
from models.case_status import NextAction
from models.contracts import AttemptStatus, ClosureReason, RefusalReason, TimelineEvent
from models.departments import LegalOutcomeKind, ProceedingKind, RiskDecisionKind, RiskReviewState
from models.strategy import Channel, Segment
from models.tasks import TaskKind, TaskOutcome
from operations.gateway import Gateway
from operations.roles import Role
from readmodel.queries import center_kpis
from tests import people as test_people
from tests.api.test_cases_api import at_rest
from tests.cli.test_case_cli import StandInStart, after_a_risk_decision, new_account, stand_ins
from tests.people import PASSWORD, PEOPLE, as_colleague
from tests.workflows import harness as workflow_harness
from tests.workflows.harness import CaseHarness, department_settings
from tests.workflows.test_case_departments import legal_ready_case, risk_review
from workflows.case import CollectionCaseWorkflow as Case

fake_twilio = workflow_harness.fake_twilio
people = test_people.people
sqlite_db = test_people.sqlite_db  # the harness's, with the test people in it
departments = workflow_harness.departments

TEMPLATES = Path(__file__).parents[2] / "api" / "console" / "templates"


@dataclasses.dataclass
class Console:
    harness: CaseHarness
    app: object

    def browser(self) -> httpx.AsyncClient:
        """A fresh browser: its own cookies."""
        transport = httpx.ASGITransport(app=self.app)  # type: ignore[arg-type]
        return httpx.AsyncClient(transport=transport, base_url="http://console")


@pytest.fixture
async def console(departments: CaseHarness) -> AsyncIterator[Console]:
    settings = department_settings(departments.queue)
    gateway = Gateway(departments.client, answer_within=settings.answer_timeout_seconds)
    app = api_app.create_app(settings, gateway=gateway, db=departments.db)
    yield Console(departments, app)


def sign_in_form(staff: str, password: str = PASSWORD, **more: str) -> dict[str, str]:
    return {"staff": staff, "password": password, **more}


@contextlib.asynccontextmanager
async def signed_in(console: Console, role: Role) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in as `role`'s person (`tests.staffing.PEOPLE`)."""
    async with console.browser() as browser:
        answer = await browser.post("/console/signin", data=sign_in_form(PEOPLE[role]))
        assert answer.status_code == 303, answer.text
        yield browser


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_sign_in_needs_the_staff_id_and_its_own_password(console: Console) -> None:
    ann = PEOPLE[Role.OPERATIONS]
    async with console.browser() as browser:
        first = await browser.get("/console/cases")
        assert (first.status_code, first.headers["location"]) == (
            303,
            "/console/signin?next=%2Fconsole%2Fcases",
        )
        form = await browser.get(first.headers["location"])
        assert 'name="staff"' in form.text and 'name="password"' in form.text
        assert 'name="key"' not in form.text  # no shared key any more
        # A failure says the same whatever went wrong.
        for refused in (
            sign_in_form(ann, "not her password"),
            sign_in_form("nobody.here"),
            sign_in_form(ann, ""),
            sign_in_form("", PASSWORD),
            sign_in_form(PEOPLE[Role.SUPERVISOR], PASSWORD + "!"),
        ):
            wrong = await browser.post("/console/signin", data=refused)
            assert wrong.status_code == 403, refused
            assert 'data-error="signin_failed"' in wrong.text and "登录失败" in wrong.text
            assert "collections_session" not in wrong.headers.get("set-cookie", "")
        # A sign-in link cannot send anyone off the console.
        ok = await browser.post("/console/signin", data=sign_in_form(ann, next="//evil.example/"))
        assert (ok.status_code, ok.headers["location"]) == (303, "/console/cases")
        page = await browser.get("/console/cases")
        assert page.status_code == 200 and f"data-staff>{ann}<" in page.text
        session = browser.cookies["collections_session"]
        out = await browser.post("/console/signout", headers={"Origin": "http://console"})
        assert (out.status_code, out.headers["location"]) == (303, "/console/signin")
    # Signed out, the session is over on the server too: its cookie admits nobody.
    async with console.browser() as stolen:
        stolen.cookies.set("collections_session", session)
        again = await stolen.get("/console/cases")
        assert again.status_code == 303 and again.headers["location"].startswith("/console/signin")


async def test_a_form_posted_from_another_site_is_refused_and_changes_nothing(
    console: Console,
) -> None:
    """The session cookie is `HttpOnly` and `SameSite=Strict`; behind it, a post whose page was
    on another site is refused, even when a browser sends the cookie along."""
    handle = await console.harness.start(dpd=12)
    account = handle.id.removeprefix("case-")
    await at_rest(console.harness, account)
    async with signed_in(console, Role.SUPERVISOR) as browser:
        cookie = next(
            line
            for line in (
                await browser.post("/console/signin", data=sign_in_form(PEOPLE[Role.SUPERVISOR]))
            ).headers.get_list("set-cookie")
            if line.startswith("collections_session=")
        )
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        pause = f"/console/cases/{account}/pause"
        for page in ("https://evil.example/win", "null"):
            forged = await browser.post(pause, data={"reason": "x"}, headers={"Origin": page})
            assert forged.status_code == 403, page
        referred = await browser.post(
            pause, data={"reason": "x"}, headers={"Referer": "http://evil.example/form"}
        )
        assert referred.status_code == 403
        assert not (await handle.query(Case.status)).paused
        own = await browser.post(
            pause, data={"reason": "customer asked"}, headers={"Origin": "http://console"}
        )
        assert own.status_code == 303
    assert (await handle.query(Case.status)).paused


async def test_each_role_sees_its_own_pages_and_no_other(console: Console) -> None:
    expected = {
        Role.OPERATIONS: {"cases", "tasks", "risk", "dashboard"},
        Role.SUPERVISOR: {"cases", "tasks", "risk", "legal", "dashboard"},
        Role.RISK: {"cases", "risk", "dashboard"},
        Role.LEGAL: {"cases", "legal", "dashboard"},
        Role.ENGINEER: {"cases", "dashboard"},
        Role.ADMIN: set(),  # keeps the staff directory; opens no case
    }
    paths = {
        "cases": "/console/cases",
        "tasks": "/console/tasks",
        "risk": "/console/inbox/risk",
        "legal": "/console/inbox/legal",
        "dashboard": "/console/dashboard",
    }
    assert set(expected) == set(Role)
    for role, pages in expected.items():
        async with signed_in(console, role) as browser:
            home = await browser.get("/console/cases")
            nav = set(re.findall(r'data-nav="(\w+)"', home.text))
            assert nav & set(paths) == pages, role
            assert f"data-staff>{PEOPLE[role]}<" in home.text
            for page, path in paths.items():
                answer = await browser.get(path)
                assert answer.status_code == (200 if page in pages else 403), (role, page)


async def test_a_collector_finds_a_case_records_a_promise_and_sees_refusals_in_place(
    console: Console,
) -> None:
    harness = console.harness
    handle = await harness.start(dpd=12)
    account = handle.id.removeprefix("case-")
    await at_rest(harness, account)
    async with signed_in(console, Role.OPERATIONS) as browser:
        found = await browser.get("/console/cases", params={"account": account[:10], "min_dpd": 10})
        assert f'data-account="{account}"' in found.text
        assert "张伟" not in found.text and "+86138" not in found.text  # no personal data listed
        page = await browser.get(f"/console/cases/{account}")
        assert page.status_code == 200
        assert 'data-stage="early"' in page.text and "5,000.00 CNY" in page.text
        assert f"/workflows/case-{account}" in page.text  # the history link
        # Supervisors' actions are not offered to a collector, and refused if posted.
        assert 'data-form="close"' not in page.text
        closing = await browser.post(
            f"/console/cases/{account}/close", data={"closure": "manual", "note": "x"}
        )
        assert closing.status_code == 403

        # A bad amount: the workflow's own refusal, beside the form, with what was typed.
        today = (await harness.env.get_current_time()).date()
        promised = (today + timedelta(days=5)).isoformat()
        bad = await browser.post(
            f"/console/cases/{account}/promise_to_pay",
            data={"amount": "-5", "promised_date": promised},
        )
        assert bad.status_code == 400
        [message] = re.findall(r'data-error="promise_to_pay">([^<]+)<', bad.text)
        assert "amount" in message
        assert 'value="-5"' in bad.text
        unreadable = await browser.post(
            f"/console/cases/{account}/promise_to_pay",
            data={"amount": "lots", "promised_date": promised},
        )
        assert unreadable.status_code == 400 and "不是有效金额" in unreadable.text

        # A good one: redirected to the case, which shows the workflow's answer once.
        good = await browser.post(
            f"/console/cases/{account}/promise_to_pay",
            data={"amount": "1,200.50", "promised_date": promised},
        )
        assert (good.status_code, good.headers["location"]) == (303, f"/console/cases/{account}")
        shown = await browser.get(f"/console/cases/{account}")
        [answer] = re.findall(r"data-flash>([^<]+)<", shown.text)
        assert "promise" in answer.lower()
        assert "1,200.50 CNY" in text_of(shown.text.split("data-promise>")[1])
        timeline = text_of(shown.text.split("data-timeline>")[1])
        assert "1,200.50 CNY by" in timeline and "120050" not in timeline  # in yuan, not fen
        # The promise is on record as ann's, the opening as the case's own.
        actors = re.findall(r"data-event=\"(\w+)\".*?data-actor>([^<]*)<", shown.text)
        assert ("promise", "ops.ann (console)") in actors and ("opened", "workflow") in actors
        again = await browser.get(f"/console/cases/{account}")
        assert "data-flash" not in again.text
    status = await handle.query(Case.status)
    assert status.open_promise is not None and status.open_promise.amount_minor == 120_050


async def test_a_reason_reads_as_typed_and_an_amount_in_the_currency_s_decimals(
    console: Console,
) -> None:
    """Timeline texts come from the case's typed events: an operator's words are shown as
    typed (a sum inside a reason is not "converted" from minor units), a payment in yuan."""
    harness = console.harness
    handle = await harness.start(dpd=12)
    account = handle.id.removeprefix("case-")
    await at_rest(harness, account)
    reason = "customer says 500 USD was paid in cash on 12 CNY fees"
    async with signed_in(console, Role.OPERATIONS) as browser:
        paused = await browser.post(f"/console/cases/{account}/pause", data={"reason": reason})
        assert paused.status_code == 303, paused.text
        paid = await browser.post(
            f"/console/cases/{account}/record_payment",
            data={"amount": "1,200.50", "payment_ref": "BANK-7"},
        )
        assert paid.status_code == 303, paid.text
        page = await browser.get(f"/console/cases/{account}")
    timeline = html.unescape(text_of(page.text.split("data-timeline>")[1]))
    assert reason in timeline and "5.00 USD" not in timeline
    assert "1,200.50 CNY ref BANK-7" in timeline and "120050" not in timeline


async def test_a_complaint_is_recorded_on_the_case_and_answered_from_the_register(
    console: Console,
) -> None:
    harness = console.harness
    handle = await harness.start(dpd=12)
    account = handle.id.removeprefix("case-")
    await at_rest(harness, account)
    asks = "the collector was rude; wants an apology"
    async with signed_in(console, Role.OPERATIONS) as browser:
        page = await browser.get(f"/console/cases/{account}")
        assert 'data-form="raise_complaint"' in page.text
        assert 'data-form="resolve_complaint"' not in page.text  # none open, and not theirs
        bad = await browser.post(
            f"/console/cases/{account}/raise_complaint",
            data={"category": "rudeness", "complaint_channel": "phone", "asks": asks},
        )
        assert bad.status_code == 400 and "不是可选项" in bad.text
        raised = await browser.post(
            f"/console/cases/{account}/raise_complaint",
            data={"category": "conduct", "complaint_channel": "phone", "asks": asks},
        )
        assert raised.status_code == 303, raised.text
        assert (await browser.get("/console/complaints")).status_code == 403
    await at_rest(harness, account)
    [complaint] = (await handle.query(Case.status)).open_complaints
    async with signed_in(console, Role.SUPERVISOR) as browser:
        register = await browser.get("/console/complaints")
        assert f'data-complaint="{complaint.key}"' in register.text and asks in register.text
        page = await browser.get(f"/console/cases/{account}")
        assert f'data-complaint="{complaint.key}"' in page.text  # among the case's facts
        answered = await browser.post(
            f"/console/cases/{account}/resolve_complaint",
            data={"key": complaint.key, "outcome": "upheld", "response": "apologised by phone"},
        )
        assert answered.status_code == 303, answered.text
        await at_rest(harness, account)
        done = await browser.get("/console/complaints", params={"show": "answered"})
        assert "apologised by phone" in done.text and "投诉成立" in done.text
        dashboard = await browser.get("/console/dashboard")
        counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', dashboard.text))
        assert counts == {"received": "1", "upheld": "1", "open": "0", "overdue": "0"}


async def test_a_supervisor_approves_and_legal_accepts_and_records_a_judgment(
    console: Console,
) -> None:
    harness = console.harness
    handle = await legal_ready_case(harness)
    async with signed_in(console, Role.SUPERVISOR) as supervisor:
        team = await supervisor.get("/console/tasks", params={"view": "team"})
        [key] = re.findall(r'data-task="([^"]+)" data-kind="supervisor_approval"', team.text)
        done = await supervisor.post(
            "/console/tasks/complete", data={"task_key": key, "outcome": "approved", "view": "team"}
        )
        assert done.status_code == 303
        shown = await supervisor.get(done.headers["location"])
        # Approving a referral takes two: it waits for a second supervisor.
        [request] = re.findall(
            r"approving a legal referral needs a second person: request (\d+) waits", shown.text
        )
        assert not (await handle.query(Case.status)).legal_referral
    async with console.browser() as second:
        approved = await second.post(
            f"/approvals/{request}/approve", headers=as_colleague(Role.SUPERVISOR)
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["message"] == (
            "approved; the case is referred to the legal department"
        )
    await harness.sleep_days(0.1)
    referral = (await handle.query(Case.status)).legal_referral
    assert referral

    async with signed_in(console, Role.OPERATIONS) as collector:
        assert (await collector.get("/console/inbox/legal")).status_code == 403
        assert (await collector.get(f"/console/inbox/legal/{referral}")).status_code == 403

    async with signed_in(console, Role.LEGAL) as legal:
        inbox = await legal.get("/console/inbox/legal")
        assert f'data-handoff="{referral}"' in inbox.text
        page = await legal.get(f"/console/inbox/legal/{referral}")
        assert 'data-form="accept"' in page.text and "data-dossier" in page.text
        accepted = await legal.post(f"/console/inbox/legal/{referral}/accept", data={"note": ""})
        assert accepted.status_code == 303
        page = await legal.get(accepted.headers["location"])
        assert f"data-accepted-by>{PEOPLE[Role.LEGAL]}<" in page.text
        assert "LEGAL REFERRAL DOSSIER" in page.text  # the printable dossier, not raw JSON
        # Accepted: it can no longer be accepted or returned, only worked.
        forms = set(re.findall(r'data-form="([a-z-]+)"', page.text))
        assert forms == {"proceedings", "contact-permission"}
        # A judgment before the filing: the referral's own refusal, in place.
        today = (await harness.env.get_current_time()).date().isoformat()
        early = await legal.post(
            f"/console/inbox/legal/{referral}/proceedings",
            data={"kind": "judgment", "on": today, "amount": "9,000"},
        )
        assert early.status_code == 400 and 'data-error="proceedings"' in early.text
        for kind in ("filed", "judgment"):
            recorded = await legal.post(
                f"/console/inbox/legal/{referral}/proceedings",
                data={"kind": kind, "on": today, "amount": "9,000" if kind == "judgment" else ""},
            )
            assert recorded.status_code == 303, recorded.text
        page = await legal.get(f"/console/inbox/legal/{referral}")
        proceedings = text_of(page.text.split("data-proceedings>")[1].split("</dd>")[0])
        assert "已立案" in proceedings and "判决" in proceedings
        assert "9,000.00 CNY" in proceedings


async def test_risk_decides_a_hardship_review_and_a_collector_only_reads_it(
    console: Console,
) -> None:
    harness = console.harness
    handle = await harness.start(dpd=3)
    account = handle.id.removeprefix("case-")
    await at_rest(harness, account)
    async with signed_in(console, Role.OPERATIONS) as collector:
        reported = await collector.post(
            f"/console/cases/{account}/report_hardship", data={"reason": "lost job in October"}
        )
        assert reported.status_code == 303, reported.text
        review = await risk_review(harness, handle)
        inbox = await collector.get("/console/inbox/risk")
        assert f'data-handoff="{review.id}"' in inbox.text  # collectors follow their reviews
        page = await collector.get(f"/console/inbox/risk/{review.id}")
        assert page.status_code == 200 and 'data-form="decide"' not in page.text
        assert (
            await collector.post(f"/console/inbox/risk/{review.id}/decide", data={})
        ).status_code == 403

    async with signed_in(console, Role.RISK) as risk:
        page = await risk.get(f"/console/inbox/risk/{review.id}")
        assert 'data-form="decide"' in page.text and "data-dossier" in page.text
        incomplete = await risk.post(
            f"/console/inbox/risk/{review.id}/decide",
            data={"kind": "forbearance", "reason": "temporary unemployment"},
        )
        assert incomplete.status_code == 400
        assert "forbearance_until" in incomplete.text and 'data-error="decide"' in incomplete.text
        until = (await harness.today() + timedelta(days=30)).isoformat()
        decided = await risk.post(
            f"/console/inbox/risk/{review.id}/decide",
            data={
                "kind": "forbearance",
                "reason": "temporary unemployment",
                "forbearance_until": until,
            },
        )
        assert decided.status_code == 303, decided.text
        page = await risk.get(decided.headers["location"])
        assert 'data-decision="forbearance">宽限 · risk.rui' in page.text
        assert 'data-form="decide"' not in page.text  # decided: nothing more to answer
    decision = await review.result()
    assert (decision.decided_by, str(decision.forbearance_until)) == ("risk.rui", until)


async def test_a_case_page_shows_the_plan_and_translates_what_the_case_names(
    console: Console,
) -> None:
    """After a risk decision: the forbearance, the plan instalment by instalment and what was
    overpaid; the next action and the timeline's kinds in the operator's language. A timeline
    detail is the case's own English (typed events would let it be translated)."""
    at = datetime(2026, 11, 1, 2, tzinfo=UTC)
    timeline = (
        TimelineEvent(at, "opened", "strategy default v1, score 540, segment medium"),
        TimelineEvent(at, "payment", "payment 112345 CNY ref B-1"),
        TimelineEvent(at, "kind_of_tomorrow", "a kind this console does not know yet"),
    )
    async with stand_ins(console.harness.client, f"{console.harness.queue}-stand-in") as cases:
        account = await cases.start(
            StandInStart(after_a_risk_decision(new_account()), timeline=timeline)
        )
        async with signed_in(console, Role.OPERATIONS) as browser:
            page = (await browser.get(f"/console/cases/{account}")).text
            en = await browser.get(f"/console/language/en?next=/console/cases/{account}")
            english = (await browser.get(en.headers["location"])).text

    facts = text_of(page.split("data-status>")[1].split("</dl>")[0])
    assert "下一步 核对下一期分期 · 2026-12-01 01:00 UTC" in facts
    assert "宽限至 2026-11-15" in facts
    assert "还款计划 执行中" in facts and "超额还款 123.45 CNY" in facts
    assert "check the plan" not in page
    instalments = re.findall(r"<tr data-instalment=\"(\w+)\">(.*?)</tr>", page, re.S)
    assert [(status, text_of(row).split()) for status, row in instalments] == [
        ("paid", ["2026-11-01", "1,000.00", "CNY", "1,000.00", "CNY", "已还"]),
        ("due", ["2026-12-01", "1,500.00", "CNY", "0.00", "CNY", "待还"]),
    ]
    events = re.findall(r'data-event="(\w+)">([^<]+)<', page)
    assert events == [
        ("kind_of_tomorrow", "kind_of_tomorrow"),
        ("payment", "还款"),
        ("opened", "开案"),
    ]
    assert "payment 1,123.45 CNY ref B-1" in text_of(page.split("data-timeline>")[1])

    facts = html.unescape(text_of(english.split("data-status>")[1].split("</dl>")[0]))
    assert "Next action check the plan's next instalment · 2026-12-01" in facts
    assert "Payment plan Active" in facts and "Overpaid 123.45 CNY" in facts
    assert ("payment", "Payment") in re.findall(r'data-event="(\w+)">([^<]+)<', english)


async def test_the_console_shows_instants_in_the_operators_time_zone(
    departments: CaseHarness,
) -> None:
    """CONSOLE_TIME_ZONE: a collector in Shanghai reads the next action's time and the
    timeline in Shanghai's time, with its offset; the stored instants stay UTC."""
    settings = department_settings(departments.queue)
    shanghai = dataclasses.replace(settings, console_time_zone="Asia/Shanghai")
    gateway = Gateway(departments.client, answer_within=settings.answer_timeout_seconds)
    console = Console(departments, api_app.create_app(shanghai, gateway=gateway, db=departments.db))
    at = datetime(2026, 11, 1, 2, tzinfo=UTC)
    timeline = (TimelineEvent(at, "opened", "strategy default v1, score 540, segment medium"),)
    async with stand_ins(departments.client, f"{departments.queue}-stand-in") as cases:
        account = await cases.start(
            StandInStart(after_a_risk_decision(new_account()), timeline=timeline)
        )
        async with signed_in(console, Role.OPERATIONS) as browser:
            page = (await browser.get(f"/console/cases/{account}")).text

    facts = text_of(page.split("data-status>")[1].split("</dl>")[0])
    assert "下一步 核对下一期分期 · 2026-12-01 09:00 UTC+8" in facts
    assert "2026-11-01 10:00 UTC+8" in text_of(page.split("data-timeline>")[1])


def test_an_offset_reads_in_hours_and_minutes_and_a_zone_name_is_checked() -> None:
    def label(zone: str, at: datetime) -> str:
        return offset_label(at.astimezone(ZoneInfo(zone)))

    july = datetime(2026, 7, 1, tzinfo=UTC)
    assert label("UTC", july) == "UTC"
    assert label("America/New_York", july) == "UTC-4"
    assert label("America/New_York", july.replace(month=12)) == "UTC-5"
    assert label("Asia/Kolkata", july) == "UTC+5:30"
    with pytest.raises(ValueError, match="CONSOLE_TIME_ZONE is an IANA time zone"):
        load_settings(environ={"CONSOLE_TIME_ZONE": "Beijing"}, env_file=Path("/nonexistent"))


async def test_a_case_that_names_no_next_action_kind_shows_its_words(console: Console) -> None:
    """Cases started before the kind was named: the case's English words, in either language."""
    status = after_a_risk_decision(
        new_account(), next_action="review the case", next_action_kind=None
    )
    async with stand_ins(console.harness.client, f"{console.harness.queue}-stand-in") as cases:
        account = await cases.start(StandInStart(status))
        async with signed_in(console, Role.OPERATIONS) as browser:
            page = (await browser.get(f"/console/cases/{account}")).text
    assert re.findall(r'data-next="">([^<·]+)', page) == ["review the case "]


async def test_the_payment_form_marks_an_overpayment_when_ticked(console: Console) -> None:
    async with stand_ins(console.harness.client, f"{console.harness.queue}-stand-in") as cases:
        account = await cases.start(StandInStart(after_a_risk_decision(new_account())))
        async with signed_in(console, Role.OPERATIONS) as browser:
            page = await browser.get(f"/console/cases/{account}")
            form = page.text.split('data-form="record_payment"')[1].split("</form>")[0]
            assert 'type="checkbox" name="overpayment"' in form and "这是一笔超额还款" in form
            for ref, ticked in (("B-1", {"overpayment": "on"}), ("B-2", {})):
                posted = await browser.post(
                    f"/console/cases/{account}/record_payment",
                    data={"amount": "9,000.50", "payment_ref": ref, **ticked},
                )
                assert posted.status_code == 303, posted.text
        taken = await cases.payments(account)
    assert [(p.payment_ref, p.amount_minor, p.overpayment) for p in taken] == [
        ("B-1", 900_050, True),
        ("B-2", 900_050, False),
    ]


async def test_the_dashboard_draws_what_the_read_model_counts(console: Console) -> None:
    harness = console.harness
    for dpd in (5, 40, 75):
        handle = await harness.start(dpd=dpd)
        await at_rest(harness, handle.id.removeprefix("case-"))
    kpis = await center_kpis(harness.db, now=datetime.now(UTC))
    async with signed_in(console, Role.ENGINEER) as browser:
        page = await browser.get("/console/dashboard")
    assert page.status_code == 200
    buckets = dict(
        re.findall(
            r'data-label="([^"]+)" data-value="([^"]+)"',
            page.text.split('data-chart="bucket"')[1].split("</svg>")[0],
        )
    )
    assert {k: int(float(v)) for k, v in buckets.items()} == kpis.by_bucket
    assert kpis.by_bucket["M1"] >= 1 and kpis.by_bucket["M2"] >= 1 and kpis.by_bucket["M3"] >= 1
    for chart in ("stage", "roll", "rates"):
        assert f'data-chart="{chart}"' in page.text
    assert "<script" not in page.text and "http://" not in page.text.replace(
        "http://www.w3.org", ""
    )


def test_every_label_the_templates_use_exists_in_both_languages() -> None:
    used = set()
    groups_used = set()
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        used |= set(re.findall(r"t\('([a-z_]+)'\)", text))
        groups_used |= set(re.findall(r"\bt\([^()]+, '(\w+)'\)", text))
    # The console's own form errors name a field and a reason, both shown through labels.
    for module in sorted(TEMPLATES.parent.glob("*.py")):
        code = module.read_text()
        used |= {w for pair in re.findall(r'FormError\("(\w+)", "(\w+)"\)', code) for w in pair}
        used |= set(re.findall(r'FormError\(field, "(\w+)"\)', code))
        used |= set(re.findall(r'(?:minor_units|a_date|optional_date)\([^()]*, "(\w+)"\)', code))
        groups_used |= set(re.findall(r'\bt\([^()]+, "(\w+)"\)', code))
    known = set(LABELS) | set(STAGES) | set(TERMS) | {"risk_inbox", "legal_inbox"}
    assert used and used <= known, used - known
    assert {"not_a_number", "not_an_outcome", "forbearance_until"} <= used
    assert {"second_collector", "consent_to_enter", "overpayment", "overpaid", "plan"} <= used
    assert groups_used and groups_used <= set(GROUPS), groups_used - set(GROUPS)
    assert all((zh and en and zh != en) or key == "app" for key, (zh, en) in LABELS.items())
    for table in (STAGES, TERMS, *GROUPS.values()):
        assert all(zh and en and zh != en for zh, en in table.values())


def test_every_value_the_console_shows_has_a_chinese_label() -> None:
    """What the workflows name (kinds, statuses, reasons) shows through a table of its own."""
    named_by = {
        "next_action": NextAction,
        "closure": ClosureReason,
        "channel": Channel,
        "segment": Segment,
        "attempt": AttemptStatus,
        "refusal": RefusalReason,
        "decision": RiskDecisionKind,
        "proceeding": ProceedingKind,
        "legal_outcome": LegalOutcomeKind,
        "handoff": RiskReviewState,
    }
    for group, values in named_by.items():
        missing = {v.value for v in values} - set(GROUPS[group])
        assert not missing, (group, missing)
    assert set(NEXT_ACTIONS) == {a.value for a in NextAction}
    assert {v.value for v in (*TaskKind, *TaskOutcome)} <= set(TERMS)
    assert {"referred", "accepted", "returned", "closed"} <= set(GROUPS["handoff"])
    assert {"active", "kept", "broken"} == set(GROUPS["plan"])
    assert {"due", "paid", "missed"} == set(GROUPS["instalment"])
    # Every kind of event a case records on its timeline (`models.case_events`).
    assert {"opened", "payment", "promise_broken", "plan_broken"} <= set(KINDS)
    assert set(KINDS) <= set(GROUPS["event"]), set(KINDS) - set(GROUPS["event"])
