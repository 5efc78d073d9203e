"""A task's work page in the console, against the real case workflow on the time-skipping
server: the customer's name and number only after "Reveal" (and the look in the access log),
the call script with its disclosures in the customer's language, whether calling is allowed now
in the customer's time and when next, the outcome recorded from the page with right-party
contact, the call's length and a promise, and the queues a collector may not open. The scripts
file's own checks are tested on files of their own."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from api.console.call_window import rules_of_case, unreachable
from config.scripts import SCRIPTS_FILE, STEPS, ScriptError, current_scripts, load_scripts
from config.strategy import load_strategy
from models.contracts import Language
from models.strategy import Channel
from operations import access
from operations.roles import Role
from readmodel import queries
from readmodel.tables import HumanTaskRow
from tests import people as test_people
from tests.api import test_console
from tests.api.test_cases_api import at_rest
from tests.api.test_console import Console, signed_in, text_of
from tests.people import PEOPLE
from tests.workflows import harness as workflow_harness
from tests.workflows.harness import department_settings

# The console's fixture, over the departments' workers and the read model with the people in it.
console = test_console.console
departments = workflow_harness.departments
fake_twilio = workflow_harness.fake_twilio
people = test_people.people
sqlite_db = test_people.sqlite_db

ANN, SAM = PEOPLE[Role.OPERATIONS], PEOPLE[Role.SUPERVISOR]
NAME, MOBILE = "张伟", "+8613"  # the harness's customer, and how every number of theirs begins


def zone_where_it_is(hours: range) -> str:
    """A time zone whose clock shows one of `hours` now (the console's clock is the wall's)."""
    now = datetime.now(UTC)
    for offset in range(-12, 15):
        if (now + timedelta(hours=offset)).hour in hours:
            return f"Etc/GMT{-offset:+d}"  # POSIX style: the sign is inverted
    raise AssertionError(f"no zone shows {hours} now")


async def a_call(
    console: Console, *, time_zone: str = "Asia/Shanghai", language: Language = Language.ZH_CN
) -> str:
    """A case in the collector stage with its collector call open; the call's task key."""
    harness = console.harness
    handle = await harness.start(dpd=40, time_zone=time_zone, language=language)
    await harness.sleep_days(0.1)  # into the collector stage: a call is opened
    await at_rest(harness, handle.id.removeprefix("case-"))
    row = await _task(console, handle.id, "collector_call")
    return row.idempotency_key


async def _task(
    console: Console, case_id: str, kind: str, status: str | None = None
) -> HumanTaskRow:
    for _ in range(200):
        rows = await queries.list_tasks(console.harness.db, case_id=case_id, status=status)
        found = [r for r in rows if r.kind == kind]
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {kind} task on {case_id}")


def work(key: str) -> str:
    return f"/console/tasks/{key}/work"


def account_of(key: str) -> str:
    return key.split("/", 1)[0].removeprefix("case-")


async def test_the_name_and_number_show_only_after_reveal_and_the_look_is_logged(
    console: Console,
) -> None:
    key = await a_call(console)
    account = account_of(key)
    async with signed_in(console, Role.OPERATIONS) as browser:
        listed = await browser.get("/console/tasks", params={"view": "team"})
        assert f'href="{work(key)}" data-work' in listed.text
        assert NAME not in listed.text and MOBILE not in listed.text

        page = await browser.get(work(key))
        assert page.status_code == 200
        assert NAME not in page.text and MOBILE not in page.text and "tel:" not in page.text
        assert 'data-form="reveal"' in page.text
        assert await access.who_saw(console.harness.db, account) == []

        shown = await browser.post(f"/console/tasks/{key}/reveal")
        assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
        [name] = re.findall(r"data-contact-name>([^<]+)<", shown.text)
        [number] = re.findall(r'href="tel:(\+\d+)" data-contact-mobile', shown.text)
        assert name == NAME and number.startswith(MOBILE)
        assert number not in shown.headers.get("set-cookie", "")

        again = await browser.get(work(key))
        assert NAME not in again.text and number not in again.text  # on that answer only
    [look] = await access.who_saw(console.harness.db, account)
    assert (look.person_id, look.via, look.what) == (ANN, "console", "contact_details")
    assert look.reason == f"calling the customer (task {key})"


async def test_the_script_says_each_disclosure_in_the_customer_s_language(
    console: Console,
) -> None:
    scripts = current_scripts()
    for language, script in (
        (Language.ZH_CN, scripts.languages["zh"]),
        (Language.EN, scripts.languages["en"]),
    ):
        key = await a_call(console, language=language)
        async with signed_in(console, Role.OPERATIONS) as browser:
            page = await browser.get(work(key))
        steps = re.findall(r'<li data-step="(\w+)"( data-disclosure)?>', page.text)
        assert [s for s, _ in steps] == list(STEPS)
        assert {s for s, disclosure in steps if disclosure} == set(STEPS) - {"purpose"}
        said = html.unescape(text_of(page.text.split("data-script>")[1].split("</ol>")[0]))
        # Filled in: the collector's name, the bank, the amounts in yuan, no placeholder left.
        bank, collector = "Collections Bank", ANN.title()
        assert script.disclosures["identify"].format(bank=bank, collector=collector) in said
        assert script.disclosures["recorded"] in said
        assert script.disclosures["dispute"] in said
        assert script.disclosures["no_more_calls"] in said
        assert "1,200.00 CNY" in said and "5,000.00 CNY" in said and "{" not in said
        # Confirming the customer comes before anything about the debt.
        assert said.index(account_of(key)[-4:]) < said.index("1,200.00 CNY")
        assert NAME not in said


async def test_calling_is_not_allowed_at_night_in_the_customer_s_time_and_says_when(
    console: Console,
) -> None:
    night = zone_where_it_is(range(1, 5))
    key = await a_call(console, time_zone=night)
    async with signed_in(console, Role.OPERATIONS) as browser:
        page = await browser.get(work(key))
    assert 'data-call-window="not_now"' in page.text
    assert 'data-reason="outside_window"' in page.text and "不在允许联系时段" in page.text
    local_now = datetime.now(UTC).astimezone(ZoneInfo(night))
    morning = datetime.combine(local_now.date(), time(8), ZoneInfo(night))
    [local] = re.findall(r"data-next-local>([^<]+)<", page.text)
    [utc] = re.findall(r"data-next-utc>([^<]+)<", page.text)
    assert local == f"{morning:%Y-%m-%d} 08:00 ({night})"
    assert utc == f"{morning.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    assert 'data-rules="default@' in page.text  # the case's own strategy, not a stand-in

    day = zone_where_it_is(range(10, 18))
    key = await a_call(console, time_zone=day)
    async with signed_in(console, Role.OPERATIONS) as browser:
        page = await browser.get(work(key))
    assert 'data-call-window="allowed"' in page.text, text_of(page.text)


async def test_click_to_call_from_the_page_rings_the_customer_then_the_collector(
    console: Console,
) -> None:
    key = await a_call(console, time_zone=zone_where_it_is(range(10, 18)))
    calls_before = len(console.harness.fake.calls)
    async with signed_in(console, Role.OPERATIONS) as browser:
        page = await browser.get(work(key))
        assert 'data-form="call"' in page.text
        typo = await browser.post(f"/console/tasks/{key}/call", data={"agent_phone": "1380013"})
        assert typo.status_code == 400
        [message] = re.findall(r'data-error="call">([^<]+)<', typo.text)
        assert message == "agent_phone is not a valid E.164 number"
        assert len(console.harness.fake.calls) == calls_before  # nothing rang

        rung = await browser.post(
            f"/console/tasks/{key}/call", data={"agent_phone": "+8613800000001"}
        )
        assert (rung.status_code, rung.headers["location"]) == (303, work(key))
        shown = await browser.get(work(key))
        [answer] = re.findall(r"data-flash>([^<]+)<", shown.text)
        assert "your phone rings when they answer" in answer
    [bridge] = console.harness.fake.calls[calls_before:]
    assert "<Dial" in bridge.body and "+8613800000001</Dial>" in bridge.body
    assert bridge.to.startswith(MOBILE)  # the customer's phone rings first


async def test_the_outcome_from_the_page_reaches_the_case_and_a_dateless_promise_is_refused(
    console: Console,
) -> None:
    key = await a_call(console)
    case_id = key.split("/", 1)[0]
    promised = (await console.harness.today() + timedelta(days=3)).isoformat()
    call = {
        "outcome": "promise_made",
        "right_party": "yes",
        "call_length": "4:05",
        "promised_amount": "500",
        "note": "pays on Friday",
    }
    async with signed_in(console, Role.OPERATIONS) as browser:
        dateless = await browser.post(f"/console/tasks/{key}/outcome", data=call)
        assert dateless.status_code == 400
        [message] = re.findall(r'data-error="outcome">([^<]+)<', dateless.text)
        assert message == "a promise needs its amount and date"
        assert 'value="500"' in dateless.text and 'value="4:05"' in dateless.text  # kept

        unreadable = await browser.post(
            f"/console/tasks/{key}/outcome", data={**call, "call_length": "4:75"}
        )
        assert unreadable.status_code == 400
        assert "通话时长（分:秒 或 秒）: 不是有效时长" in html.unescape(unreadable.text)

        done = await browser.post(
            f"/console/tasks/{key}/outcome", data={**call, "promised_date": promised}
        )
        assert (done.status_code, done.headers["location"]) == (303, work(key))
        shown = await browser.get(work(key))
        [answer] = re.findall(r"data-flash>([^<]+)<", shown.text)
        assert "promise recorded" in answer
    await at_rest(console.harness, account_of(key))
    row = await _task(console, case_id, "collector_call", status="done")
    assert (row.outcome, row.right_party, row.call_seconds, row.assignee) == (
        "promise_made",
        True,
        245,
        ANN,
    )
    async with signed_in(console, Role.OPERATIONS) as browser:
        page = await browser.get(work(key))
    assert "data-closed" in page.text and 'data-form="outcome"' not in page.text
    assert f'data-past-task="{key}" data-outcome="promise_made"' in page.text
    assert 'data-call-seconds="245">4:05<' in page.text and "data-promise>500.00 CNY" in page.text
    # The case itself: its promise holds calls now.
    assert 'data-reason="promise_pending"' in page.text


async def test_a_collector_cannot_open_a_supervisor_s_task(console: Console) -> None:
    key = await a_call(console)
    account = account_of(key)
    async with signed_in(console, Role.OPERATIONS) as browser:
        raised = await browser.post(
            f"/console/cases/{account}/raise_dispute", data={"reason": "not my card"}
        )
        assert raised.status_code == 303
    await at_rest(console.harness, account)
    dispute = await _task(console, f"case-{account}", "dispute_investigation")
    assert dispute.queue == "supervisor"
    async with signed_in(console, Role.OPERATIONS) as browser:
        page = await browser.get(work(dispute.idempotency_key))
        assert page.status_code == 403 and "data-forbidden" in page.text
        look = await browser.post(f"/console/tasks/{dispute.idempotency_key}/reveal")
        assert look.status_code == 403 and NAME not in look.text
        unknown = await browser.get(work(f"case-{account}/nothing/t99"))
        assert unknown.status_code == 404
    assert await access.who_saw(console.harness.db, account) == []
    async with signed_in(console, Role.SUPERVISOR) as browser:
        page = await browser.get(work(dispute.idempotency_key))
        assert page.status_code == 200 and 'data-kind="dispute_investigation"' in page.text
        # The dispute holds calls until it is resolved.
        assert 'data-reason="dispute_open"' in page.text and "data-next-local" not in page.text


async def test_a_field_visit_is_booked_from_its_page_and_an_early_check_in_refused(
    console: Console,
) -> None:
    key = await a_call(console)
    case_id = key.split("/", 1)[0]
    async with signed_in(console, Role.OPERATIONS) as browser:
        gone = await browser.post(f"/console/tasks/{key}/outcome", data={"outcome": "not_found"})
        assert gone.status_code == 303
        await at_rest(console.harness, account_of(key))
        visit = (await _task(console, case_id, "field_visit")).idempotency_key
        page = await browser.get(work(visit))
        assert 'data-form="visit"' in page.text and 'name="consent"' in page.text
        day = (await console.harness.today() + timedelta(days=2)).isoformat()
        slot = {"day": day, "start": "10:00", "end": "12:00", "second_collector": "ops.oli"}
        evening = {**slot, "start": "18:00", "end": "22:00"}
        late = await browser.post(f"/console/tasks/{visit}/visit", data=evening)
        assert late.status_code == 400
        assert "within the contact hours, 08:00-21:00" in html.unescape(late.text)
        unreadable = await browser.post(f"/console/tasks/{visit}/visit", data={**slot, "end": "x"})
        assert "结束时间: 不是有效时间" in html.unescape(unreadable.text)
        booked = await browser.post(f"/console/tasks/{visit}/visit", data=slot)
        assert (booked.status_code, booked.headers["location"]) == (303, work(visit))
        await at_rest(console.harness, account_of(key))
        page = await browser.get(work(visit))
        assert f"{day} 10:00 (Asia/Shanghai) – 12:00" in page.text
        early = await browser.post(f"/console/tasks/{visit}/check-in")
        assert early.status_code == 400
        [why] = re.findall(r'data-error="check-in">([^<]+)<', early.text)
        assert html.unescape(why).startswith("the visit's slot starts at ")


# --- the call window's own readings ---------------------------------------------------------


def test_a_wrong_number_closes_the_phone_until_a_new_number_comes() -> None:
    unavailable = [("channel_unavailable", {"channels": "sms", "error_code": 21614})]
    assert unreachable(unavailable) == {Channel.SMS}
    wrong = [*unavailable, ("number_wrong", {"reason": "a stranger"})]
    assert unreachable(wrong) == {Channel.SMS, Channel.VOICE}
    assert unreachable([*wrong, ("mobile_changed", {"source": "customer"})]) == set()


async def test_the_rules_are_the_case_s_own_or_say_they_are_not() -> None:
    settings = department_settings("unused")
    configured = load_strategy(settings.policy_file)
    label = f"{configured.name}@{configured.version}"
    own = await rules_of_case(settings, label)
    assert (own.label, own.exact) == (label, True)
    # A version the file no longer holds, or a policy gone: the configured one, said so.
    for runs in (f"{configured.name}@1999.01-1", "retired@1", ""):
        other = await rules_of_case(settings, runs)
        assert (other.label, other.exact, other.runs) == (label, False, runs)


# --- the scripts file ----------------------------------------------------------------------


def test_the_scripts_file_has_every_stage_and_disclosure_in_both_languages() -> None:
    scripts = load_scripts()
    for language in ("zh", "en"):
        texts = scripts.languages[language]
        assert set(texts.disclosures) == set(STEPS) - {"purpose"}
        assert {"early", "collector", "risk_review", "legal"} <= set(texts.stages)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (
            ('right_party = "May I confirm', 'right_party = "You owe {overdue}. May I confirm'),
            "[en.disclosures] 'right_party' is said before the customer is confirmed: "
            "it may not use {overdue}",
        ),
        (('recorded = "This call may be recorded."\n', ""), "[en.disclosures] has no recorded"),
        (
            ('identify = "Hello, this is {collector} calling from {bank}."', 'identify = "Hi"'),
            "[en.disclosures] 'identify' must use {bank}, {collector}",
        ),
        (("{dpd} days past due, with", "{days} days past due, with"), "uses {days}"),
        (("[zh.stages]\nearly", "[zh.stages]\nlater"), "[zh.stages] has no early"),
    ],
)
def test_a_scripts_file_that_breaks_a_rule_is_refused_naming_the_key(
    tmp_path: Path, change: tuple[str, str], says: str
) -> None:
    original = SCRIPTS_FILE.read_text(encoding="utf-8")
    assert change[0] in original
    broken = tmp_path / "scripts.toml"
    broken.write_text(original.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(ScriptError, match=re.escape(says)) as refused:
        load_scripts(broken)
    assert str(broken) in str(refused.value)


async def test_the_work_page_needs_a_signed_in_collector(console: Console) -> None:
    async with console.browser() as browser:
        answer = await browser.get(work("case-1/x/t1"))
        assert answer.status_code == 303 and answer.headers["location"].startswith(
            "/console/signin"
        )
    async with signed_in(console, Role.RISK) as browser:
        assert (await browser.get(work("case-1/x/t1"))).status_code == 403
