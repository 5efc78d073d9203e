"""Every API endpoint over real HTTP: the `collections api` process in front of a `collections
worker` process hosting the collections, risk and legal queues, on the session's dev server.

Each endpoint group is called once with a role it admits, once with a role it refuses (403)
and once with a body or query it refuses (422, or 400 from the workflow). The fast tests in
`tests/api` cover every role and every refusal on the time-skipping server; these show the
same routes work across processes, with the real worker's timing.

The worker runs `fast_legal.toml` (a day is a second), so a case reaches legal in well under
a minute: two effective collector contacts 30 "days" apart, then two supervisors' approval.
Cases that should stay still name the `default` strategy (real days) in their intake row.

Callers are the test people (`tests.staffing.PEOPLE`, one per role) with their API tokens,
and two colleagues: a second supervisor for what needs two, a second collector.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.integration.processes import api_and_worker, database_url, staff_database

pytestmark = pytest.mark.integration

POLICY = Path(__file__).parent / "policies" / "fast_legal.toml"
CHECKER, SECOND_COLLECTOR = "sup.sue", "ops.oli"
COLLEAGUES = {CHECKER: ["supervisor"], SECOND_COLLECTOR: ["operations"]}
RUN = f"{time.time_ns() % 10**9:09d}"  # account numbers unique on a shared dev server
MOBILE = "+8613712345678"
NAME = "王芳"
EVIDENCE_GAP = 30.0  # seconds: 30 one-second days between two effective contacts
REASON = {"reason": "customer asked"}

T = TypeVar("T")
Json = dict[str, Any]


def account_no(n: int) -> str:
    return f"6222{n:02d}{RUN}"


def intake_row(account: str, *, dpd: int, strategy: str = "default", **changes: Any) -> Json:
    row: Json = {
        "account_no": account,
        "customer_ref": f"CUST-{account[-6:]}",
        "customer_name": NAME,
        "mobile": MOBILE,
        "language": "zh-CN",
        "time_zone": "Asia/Shanghai",
        "product": "card",
        "currency": "CNY",
        "outstanding_minor": 500_000,
        "overdue_minor": "120000",
        "oldest_due_date": (date.today() - timedelta(days=dpd)).isoformat(),
        "strategy": strategy,
    }
    return {**row, **changes}


async def eventually(
    check: Callable[[], Awaitable[T | None]], what: str, within: float = 30.0
) -> T:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = await check()
        if found is not None:
            return found
        await asyncio.sleep(0.25)
    raise AssertionError(f"{what}: not within {within:g} s")


@dataclass
class Api:
    http: httpx.AsyncClient
    tokens: dict[str, str]  # by role (that role's person) and by colleague

    async def call(
        self, method: str, path: str, who: str | None, body: Json | None = None, **params: Any
    ) -> httpx.Response:
        """As `who`: a role's person (`"operations"`: ops.ann), a colleague, or nobody."""
        headers = {"X-API-Key": self.tokens[who]} if who else {}
        return await self.http.request(method, path, json=body, params=params, headers=headers)

    async def ok(
        self, method: str, path: str, who: str, body: Json | None = None, **params: Any
    ) -> Any:
        """The JSON of a 2xx answer; any other status fails the test with its body."""
        response = await self.call(method, path, who, body, **params)
        assert response.is_success, (method, path, response.status_code, response.text)
        return response.json()

    async def approved(self, asked: Json) -> Any:
        """What a request left waiting for a second supervisor did, once the checker approved
        it."""
        assert set(asked) == {"approval_id", "message"}, asked
        return await self.ok("POST", f"/approvals/{asked['approval_id']}/approve", CHECKER)

    async def start(self, row: Json) -> str:
        started = await self.ok("POST", "/cases", "operations", row)
        assert started == {"case_id": f"case-{row['account_no']}", "account_no": row["account_no"]}
        return str(row["account_no"])

    async def status(self, account: str) -> Json | None:
        """The case's live status; None while it is being assessed or once it has ended."""
        view = await self.ok("GET", f"/cases/{account}", "operations")
        status: Json | None = view["status"]
        return status

    async def open_task(self, account: str, kind: str) -> Json:
        async def found() -> Json | None:
            tasks = await self.ok(
                "GET", "/tasks", "supervisor", case_id=f"case-{account}", status="open"
            )
            return next((t for t in tasks if t["kind"] == kind), None)

        return await eventually(found, f"an open {kind} on {account}")

    async def handoff(self, account: str, department: str) -> Json:
        role = "risk" if department == "risk" else "legal"

        async def found() -> Json | None:
            rows = await self.ok(
                "GET", "/handoffs", role, department=department, case_id=f"case-{account}"
            )
            return rows[0] if rows else None

        return await eventually(found, f"a {department} handoff of {account}")


def detail(response: httpx.Response) -> Any:
    return response.json()["detail"]


@pytest.fixture(scope="module")
async def api(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Api]:
    """One worker process for all three queues and one API process, on fresh queues and a
    fresh database with the test people in it; both stopped (SIGTERM) when the module's tests
    are done."""
    tmp = tmp_path_factory.mktemp("api-dev-server")
    address = dev_env.client.service_client.config.target_host
    async with (
        api_and_worker(address, tmp, queues=f"api-{RUN}", policy=POLICY) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30.0) as http,
    ):
        staffed, colleagues = await staff_database(database_url(tmp), colleagues=COLLEAGUES)
        yield Api(http, {**{str(r): t for r, t in staffed.tokens.items()}, **colleagues})


async def test_health_reports_temporal_and_the_database(api: Api) -> None:
    health = await api.call("GET", "/health", None)
    assert health.status_code == 200, health.text
    assert health.json() == {"status": "ok", "temporal": "ok", "database": "ok"}


async def test_a_case_is_started_read_acted_on_and_closed(api: Api) -> None:
    account = account_no(1)
    row = intake_row(account, dpd=10)

    # POST /cases: 403 for a role that does not collect, 422 for a bad row, 201, then 409.
    refused = await api.call("POST", "/cases", "risk", row)
    assert (refused.status_code, detail(refused)) == (
        403,
        "only these roles may call this: operations, supervisor",
    )
    bad = await api.call("POST", "/cases", "operations", {**row, "mobile": "138 0013 8000"})
    assert bad.status_code == 422, bad.text
    assert [(e["field"], e["reason"]) for e in detail(bad)] == [
        ("mobile", "mobile is not E.164 (+ and 8 to 15 digits, no spaces)")
    ]
    await api.start(row)
    again = await api.call("POST", "/cases", "supervisor", row)
    assert (again.status_code, detail(again)) == (
        409,
        f"a case for account {account} is already running (case-{account})",
    )

    # A case just started answers 200 at once: no row and no status while it is assessed.
    async def assessed() -> Json | None:
        answer = await api.call("GET", f"/cases/{account}", "engineer")
        assert answer.status_code == 200, answer.text
        view: Json = answer.json()
        return view if view["case"] is not None and view["status"] is not None else None

    view = await eventually(assessed, "the case assessed and in the read model")
    assert view["case"]["case_id"] == f"case-{account}"
    assert view["status"]["stage"] == "early"
    assert view["status"]["outstanding_minor"] == 500_000
    assert view["status"]["strategy_version"].startswith("default")
    assert MOBILE not in str(view) and NAME not in str(view)

    # GET /cases: every role lists; a bad filter is 422; no key is 403.
    listed = await api.ok("GET", "/cases", "legal", stage="early", min_dpd=5)
    assert f"case-{account}" in [c["case_id"] for c in listed]
    assert (await api.call("GET", "/cases", "risk", min_dpd=-1)).status_code == 422
    assert (await api.call("GET", "/cases", None)).status_code == 403

    # Unknown account: 404 from the read, the timeline and an action.
    for method, path, body in [
        ("GET", "/cases/0000000000", None),
        ("GET", "/cases/0000000000/timeline", None),
        ("POST", "/cases/0000000000/pause", REASON),
    ]:
        unknown = await api.call(method, path, "supervisor", body)
        assert unknown.status_code == 404, (path, unknown.text)

    # Each operator action once, with a role it admits.
    promised = (date.today() + timedelta(days=5)).isoformat()
    payment = {"amount_minor": 10_000, "currency": "CNY", "payment_ref": f"P-{RUN}"}
    actions: list[tuple[str, Json, str, str]] = [
        ("pause", REASON, "operations", "case paused; nothing goes out until it is resumed"),
        ("resume", REASON, "supervisor", ""),
        ("opt_out", {"channel": "voice"}, "operations", "no more voice contact"),
        ("opt_in", {"channel": "voice"}, "operations", "voice contact allowed again"),
        ("raise_dispute", {"reason": "not my card"}, "operations", ""),
        (
            "resolve_dispute",
            {"upheld": False, "reason": "statement checked"},
            "supervisor",
            "dispute rejected; collection resumes",
        ),
        (
            "promise_to_pay",
            {"amount_minor": 50_000, "currency": "CNY", "promised_date": promised},
            "operations",
            "promise recorded",
        ),
        ("record_payment", payment, "operations", "payment recorded; outstanding 4,900.00 CNY"),
    ]
    base = f"/cases/{account}"
    for action, body, role, message in actions:
        result = await api.ok("POST", f"{base}/{action}", role, body)
        assert result["accepted"] is True, (action, result)
        assert result["message"].startswith(message), (action, result)

    # A role the action does not admit, a malformed body, and the workflow's refusal.
    wrong_role = await api.call("POST", f"{base}/resolve_dispute", "operations", REASON)
    assert wrong_role.status_code == 403, wrong_role.text
    assert (await api.call("POST", f"{base}/record_payment", "legal", payment)).status_code == 403
    malformed = await api.call(
        "POST", f"{base}/record_payment", "operations", {**payment, "amount_minor": "ten"}
    )
    assert malformed.status_code == 422, malformed.text
    assert "amount_minor" in {str(part) for e in detail(malformed) for part in e["loc"]}
    negative = {**payment, "amount_minor": -5, "payment_ref": "P-neg"}
    refused_payment = await api.call("POST", f"{base}/record_payment", "operations", negative)
    assert (refused_payment.status_code, detail(refused_payment)) == (
        400,
        "amount must be positive and at most 9223372036854775807, got -5",
    )
    repeated = await api.ok("POST", f"{base}/record_payment", "supervisor", payment)
    assert repeated["accepted"] is False

    # GET /cases/{account}/timeline: every action is on it, for any role.
    timeline = await api.ok("GET", f"{base}/timeline", "risk")
    kinds = [event["kind"] for event in timeline]
    assert kinds[0] == "opened"
    for kind in (
        "paused",
        "resumed",
        "opted_out",
        "opted_in",
        "dispute_raised",
        "dispute_resolved",
        "promise",
        "payment",
    ):
        assert kind in kinds, (kind, kinds)
    actors = {event["kind"]: event["actor"] for event in timeline}
    assert (actors["paused"], actors["resumed"]) == ("ops.ann (api)", "sup.sam (api)")

    # close: a supervisor's, approved by another; then the case takes no more actions (409).
    assert (
        await api.call("POST", f"{base}/close", "operations", {"reason": "settled", "note": "x"})
    ).status_code == 403
    assert (
        await api.call("POST", f"{base}/close", "supervisor", {"reason": "bored", "note": "x"})
    ).status_code == 422
    asked = await api.call(
        "POST", f"{base}/close", "supervisor", {"reason": "settled", "note": "with the branch"}
    )
    assert asked.status_code == 202, asked.text
    own = await api.call("POST", f"/approvals/{asked.json()['approval_id']}/approve", "supervisor")
    assert own.status_code == 403, own.text
    closed = await api.approved(asked.json())
    assert closed == {"accepted": True, "message": "case closed as settled", "stage": "closed"}
    late = await api.call("POST", f"{base}/pause", "operations", REASON)
    assert late.status_code == 409, late.text
    assert "closed" in detail(late)
    still_read = await api.ok("GET", base, "operations")
    assert still_read["case"]["case_id"] == f"case-{account}"


async def test_reported_hardship_is_decided_by_the_risk_department(api: Api) -> None:
    account = await api.start(intake_row(account_no(2), dpd=12))
    base = f"/cases/{account}"
    assert (await api.call("POST", f"{base}/report_hardship", "risk", REASON)).status_code == 403
    assert (await api.call("POST", f"{base}/report_hardship", "operations", {})).status_code == 422
    hardship = await api.ok("POST", f"{base}/report_hardship", "operations", {"reason": "lost job"})
    assert (hardship["accepted"], hardship["stage"]) == (True, "risk_review")

    row = await api.handoff(account, "risk")
    key = row["handoff_key"]
    assert (row["department"], row["status"]) == ("risk", "open")
    assert "hardship" in row["reason"]

    # The inbox: risk and (reading) supervisors and operations; legal may not; bad department.
    forbidden = await api.call("GET", "/handoffs", "legal", department="risk")
    assert forbidden.status_code == 403, forbidden.text
    assert (await api.call("GET", "/handoffs", "risk", department="sales")).status_code == 422
    shown = await api.ok("GET", f"/handoffs/{key}", "operations")
    assert shown["handoff"]["handoff_key"] == key and shown["referral"] is None
    assert shown["review"]["status"] == "open"
    assert shown["review"]["summary"]["account_no"] == account
    assert (await api.call("GET", f"/handoffs/{key}", "legal")).status_code == 403
    assert (await api.call("GET", "/handoffs/risk-0000000000-1", "risk")).status_code == 404

    proceed = {"kind": "proceed", "decided_by": "risk.rui", "reason": "no hardship evidence"}
    wrong_role = await api.call("POST", f"/handoffs/{key}/decide", "operations", proceed)
    assert wrong_role.status_code == 403, wrong_role.text
    maybe = await api.call("POST", f"/handoffs/{key}/decide", "risk", {**proceed, "kind": "maybe"})
    assert maybe.status_code == 422, maybe.text
    decided = await api.ok("POST", f"/handoffs/{key}/decide", "risk", proceed)
    assert (decided["kind"], decided["decided_by"]) == ("proceed", "risk.rui")

    async def back_in_collection() -> Json | None:
        status = await api.status(account)
        return status if status is not None and status["stage"] == "early" else None

    await eventually(back_in_collection, "the case hearing the risk decision")
    again = await api.call("POST", f"/handoffs/{key}/decide", "risk", proceed)
    assert again.status_code in (400, 409), again.text


async def test_collectors_carry_two_cases_to_legal_which_answers_both(api: Api) -> None:
    """Two cases past the legal threshold, worked together: tasks listed, claimed and completed
    through the API; one referral accepted, filed and allowed contact, the other returned."""
    kept, returned = account_no(3), account_no(4)
    for account in (kept, returned):
        # medium segment (no high-risk review); 95 days past due: collector and legal at once.
        row = intake_row(
            account, dpd=95, strategy="", outstanding_minor=1_200_000, overdue_minor=400_000
        )
        await api.start(row)

    # The collector calls: listed, claimed and completed; the tasks' refusals on the first.
    first = await api.open_task(kept, "collector_call")
    assert first["queue"] == "operations" and first["case_id"] == f"case-{kept}"
    task = f"/tasks/{first['task_key']}"
    assert (await api.call("GET", "/tasks", "legal")).status_code == 403
    assert (await api.call("GET", "/tasks", "operations", queue="legal")).status_code == 422
    unknown = await api.call("POST", "/tasks/case-0/1/t1/claim", "operations", {})
    assert unknown.status_code == 404, unknown.text
    for_another = await api.call("POST", f"{task}/claim", "operations", {"collector": "c-1"})
    assert (for_another.status_code, detail(for_another)) == (
        403,
        "collector is 'c-1', but ops.ann is the one acting",
    )
    claimed = await api.ok("POST", f"{task}/claim", "operations", {})
    assert claimed["message"] == "task claimed by ops.ann"
    locked = await api.call("POST", f"{task}/claim", SECOND_COLLECTOR, {})
    assert (locked.status_code, detail(locked)) == (400, "task is locked to ops.ann")
    shrug = await api.call("POST", f"{task}/complete", "operations", {"outcome": "shrug"})
    assert shrug.status_code == 422, shrug.text
    refused = {"collector": "ops.ann", "outcome": "refused", "note": "will not pay"}
    done = await api.ok("POST", f"{task}/complete", "operations", refused)
    assert done["accepted"] is True and done["stage"] == "collector"
    await complete_call(api, returned)
    first_contacts = time.monotonic()

    # 30 "days" later: the second effective contacts; then two supervisors approve each
    # referral (one completes the task, the other approves that). The 30 days are the rule
    # under test and no event marks them, so this waits them out, checking all along that
    # neither case asks for a referral meanwhile.
    async def gap_passed() -> bool | None:
        for account in (kept, returned):
            status = await api.status(account)
            assert status is not None, f"case {account} ended"
            early = [t for t in status["open_tasks"] if t["kind"] == "supervisor_approval"]
            assert not early, f"{account}: a referral asked for after one effective contact"
        return time.monotonic() > first_contacts + EVIDENCE_GAP + 0.5 or None

    await eventually(gap_passed, f"{EVIDENCE_GAP:g} days with one contact", within=90)
    await asyncio.gather(complete_call(api, kept), complete_call(api, returned))
    approvals = await asyncio.gather(
        *(api.open_task(a, "supervisor_approval") for a in (kept, returned))
    )
    approve = {"outcome": "approved"}
    supervisors_only = await api.call(
        "POST", f"/tasks/{approvals[0]['task_key']}/complete", "operations", approve
    )
    assert (supervisors_only.status_code, detail(supervisors_only)) == (
        403,
        "only a supervisor works this task",
    )
    for approval in approvals:
        assert approval["queue"] == "supervisor"
        asked = await api.ok(
            "POST", f"/tasks/{approval['task_key']}/complete", "supervisor", approve
        )
        assert "approving a legal referral needs a second person" in asked["message"]
        answer = await api.approved(asked)
        assert answer["message"] == "approved; the case is referred to the legal department"
        assert answer["stage"] == "legal"

    # The legal inbox: legal and supervisors read it, operations may not.
    row = await api.handoff(kept, "legal")
    other = await api.handoff(returned, "legal")
    key, other_key = row["handoff_key"], other["handoff_key"]
    assert row["department"] == "legal"
    assert (await api.call("GET", "/handoffs", "operations", department="legal")).status_code == 403
    listed = await api.ok("GET", "/handoffs", "supervisor", department="legal")
    assert {key, other_key} <= {h["handoff_key"] for h in listed}
    shown = await api.ok("GET", f"/handoffs/{key}", "legal")
    assert shown["referral"]["approved_by"] == "sup.sam and sup.sue"  # who approved, who confirmed
    assert [p["met"] for p in shown["referral"]["preconditions"]] == [True] * 4

    # The dossier, once built: JSON and printable; no name or number; not for risk.
    async def built() -> httpx.Response | None:
        answer = await api.call("GET", f"/handoffs/{key}/dossier", "legal")
        return answer if answer.status_code == 200 else None

    dossier = await eventually(built, "the dossier built")
    assert dossier.json()["handoff_key"] == key
    assert MOBILE not in dossier.text and NAME not in dossier.text
    assert (await api.call("GET", f"/handoffs/{key}/dossier", "risk")).status_code == 403
    printed = await api.call("GET", f"/handoffs/{key}/dossier.txt", "supervisor")
    assert printed.status_code == 200, printed.text
    assert printed.headers["content-type"] == "text/plain; charset=utf-8"
    assert printed.text.startswith("LEGAL REFERRAL DOSSIER\n") and key in printed.text
    assert (await api.call("GET", f"/handoffs/{key}/dossier.txt", "operations")).status_code == 403

    # accept, proceedings, contact-permission: legal's; a supervisor may not; bad bodies 422.
    base = f"/handoffs/{key}"
    accept = {"by": "legal.lee"}
    assert (await api.call("POST", f"{base}/accept", "supervisor", accept)).status_code == 403
    assert (await api.call("POST", f"{base}/accept", "legal", {})).status_code == 422
    accepted = await api.ok("POST", f"{base}/accept", "legal", accept)
    assert (accepted["status"], accepted["accepted_by"]) == ("accepted", "legal.lee")
    filed = {"kind": "filed", "on": date.today().isoformat(), "by": "legal.lee"}
    appeal = await api.call("POST", f"{base}/proceedings", "legal", {**filed, "kind": "appeal"})
    assert appeal.status_code == 422, appeal.text
    recorded = await api.ok("POST", f"{base}/proceedings", "legal", filed)
    assert [p["kind"] for p in recorded["proceedings"]] == ["filed"]
    permission = {"allowed": True, "by": "legal.lee", "reason": "settlement talks"}
    bad_permission = await api.call(
        "POST", f"{base}/contact-permission", "legal", {**permission, "allowed": "perhaps"}
    )
    assert bad_permission.status_code == 422, bad_permission.text
    allowed = await api.ok("POST", f"{base}/contact-permission", "legal", permission)
    assert allowed["contact_allowed"] is True
    # An accepted referral is not returned: the workflow's refusal.
    too_late = await api.call("POST", f"{base}/return", "legal", {"by": "legal.lee", "reason": "x"})
    assert (too_late.status_code, detail(too_late)) == (
        400,
        "the referral was already accepted by legal.lee",
    )

    async def heard_acceptance() -> Json | None:
        status = await api.status(kept)
        return status if status and status["legal_accepted_by"] == "legal.lee" else None

    status = await eventually(heard_acceptance, "the case hearing legal's acceptance")
    assert (status["stage"], status["legal_referral"]) == ("legal", key)

    # return: the other referral goes back to the collectors, and takes no further answer.
    give_back = {"by": "legal.lee", "reason": "below the litigation floor"}
    assert (
        await api.call("POST", f"/handoffs/{other_key}/return", "legal", {"by": "legal.lee"})
    ).status_code == 422
    back = await api.ok("POST", f"/handoffs/{other_key}/return", "legal", give_back)
    assert (back["status"], back["outcome"]["kind"]) == ("returned", "returned")

    async def collecting_again() -> Json | None:
        status = await api.status(returned)
        return status if status and status["stage"] == "collector" else None

    await eventually(collecting_again, "the returned case back with the collectors")

    async def finished() -> httpx.Response | None:
        answer = await api.call("POST", f"/handoffs/{other_key}/accept", "legal", accept)
        assert answer.status_code in (400, 409), answer.text  # 400 until the workflow ends
        return answer if answer.status_code == 409 else None

    await eventually(finished, "the returned referral finished")


async def complete_call(api: Api, account: str) -> None:
    """An effective contact: the case's open collector call, completed as refused."""
    call = await api.open_task(account, "collector_call")
    body = {"outcome": "refused"}  # by the caller, ops.ann
    done = await api.ok("POST", f"/tasks/{call['task_key']}/complete", "operations", body)
    assert done["accepted"] is True, done
