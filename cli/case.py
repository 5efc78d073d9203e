"""`collections case`: start one case, look one up, list cases, and act on one as an operator.

- `start --account-no ... --strategy ...`: one account, the daily file's columns as flags,
  checked exactly as `intake` checks a row (same messages).
- `status ACCOUNT`, `timeline ACCOUNT`: the case's own answers (queries). `status` is the one
  place that shows who the customer is: the reference, the name and the mobile masked; after a
  risk decision it shows the forbearance's end or the payment plan, instalment by instalment.
- `list [--stage] [--segment] [--min-dpd]`: Temporal visibility over the cases' search
  attributes; no personal data.
- One command per operator action, named as the case's update with dashes: `record-payment`,
  `promise-to-pay`, `raise-dispute`, `resolve-dispute`, `report-hardship`, `opt-out`, `opt-in`,
  `pause`, `resume`, `close`. The case validates; its message is printed as it gives it.
  `record-payment --overpayment` marks a payment above the balance as meant: the case refuses
  one that is not marked, as a likely typo.

ACCOUNT is an account number (`case-<account_no>` is taken too).
Exit codes: 0 done; 1 refused by the case (nothing changed), a bad `start` flag, or an action
answered "not accepted" (a payment reference already recorded); 2 usage error, Temporal or the
database unreachable, no answer in time; 3 no case for the account; 4 the case is closed, or
(`start`) a case for the account is already running. See `cli.actions`.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.actions import (
    EXIT_CONFLICT,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    CommandEnv,
    CommandError,
    JsonOption,
    at_minute,
    day,
    execute_update,
    jsonable,
    launch,
    mask_name,
    masked,
    query,
)
from cli.main import app
from config.settings import load_settings
from models.contracts import (
    ActionResult,
    CaseInput,
    CaseStatus,
    ChannelInput,
    CloseInput,
    ClosureReason,
    PromiseToPayInput,
    ReasonInput,
    RecordPaymentInput,
    ResolveDisputeInput,
    Stage,
    TimelineEvent,
    case_id,
)
from models.intake import COLUMNS, REQUIRED, RowError, parse_intake
from models.money import money
from models.strategy import Channel, Segment

if TYPE_CHECKING:
    from temporalio.client import WorkflowExecution

case_app = typer.Typer(
    name="case", help="Start, look up, list and act on cases.", no_args_is_help=True
)
app.add_typer(case_app)

WORKFLOW_TYPE = "CollectionCase"
_HELP = {c.name: f"{c.description} ({'required' if c.required else 'optional'})" for c in COLUMNS}

AccountArg = Annotated[str, typer.Argument(metavar="ACCOUNT", help="The account number.")]
Reason = Annotated[str, typer.Option(help="Why; recorded on the case's timeline.")]


def workflow_id_for(account: str) -> str:
    account = account.strip()
    return account if account.startswith("case-") else case_id(account)


def _label(workflow_id: str) -> str:
    return f"case for account {workflow_id.removeprefix('case-')}"


# --- start ------------------------------------------------------------------------------------


def _column(name: str) -> Any:
    return typer.Option(f"--{name.replace('_', '-')}", help=_HELP[name])


@case_app.command("start")
def start(
    account_no: Annotated[str, _column("account_no")] = "",
    customer_ref: Annotated[str, _column("customer_ref")] = "",
    customer_name: Annotated[str, _column("customer_name")] = "",
    mobile: Annotated[str, _column("mobile")] = "",
    language: Annotated[str, _column("language")] = "",
    time_zone: Annotated[str, _column("time_zone")] = "",
    product: Annotated[str, _column("product")] = "",
    currency: Annotated[str, _column("currency")] = "",
    outstanding_minor: Annotated[str, _column("outstanding_minor")] = "",
    overdue_minor: Annotated[str, _column("overdue_minor")] = "",
    oldest_due_date: Annotated[str, _column("oldest_due_date")] = "",
    strategy: Annotated[str, _column("strategy")] = "",
    json_output: JsonOption = False,
) -> None:
    """Start the case of one overdue account; every flag is checked as `intake` checks a row."""
    # The parameters are named as the daily file's columns.
    values = {name: value for name, value in locals().items() if name != "json_output"}
    case, errors = case_from_flags(values, as_of=date.today())
    if case is None:  # nothing to start: no Temporal client yet, so a normal exit is safe
        env = CommandEnv(load_settings(), json_output=json_output)
        raise typer.Exit(report_rejected(env, errors))
    launch(lambda env: start_case(env, case), json_output=json_output)


def case_from_flags(
    values: dict[str, str], *, as_of: date
) -> tuple[CaseInput | None, list[RowError]]:
    """The flags as one row of the daily file, through the same checks and messages."""
    from cli.intake import policy_names

    names = [c.name for c in COLUMNS]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(names)
    writer.writerow([values.get(name, "") for name in names])
    parsed = parse_intake(text.getvalue(), as_of=as_of, strategies=policy_names())
    if parsed.valid:
        return parsed.valid[0][1], []
    # Every flag blank reads as a blank line: no error, and no case.
    return None, parsed.errors or [RowError(2, name, "is missing") for name in REQUIRED]


def report_rejected(env: CommandEnv, errors: list[RowError]) -> int:
    flags = [(f"--{e.field.replace('_', '-')}", e.reason) for e in errors]
    if env.json_output:
        rejected = [{"field": e.field, "reason": e.reason} for e in errors]
        env.print_json({"error": "not started", "rejected": rejected}, EXIT_REFUSED)
    for flag, reason in flags:
        env.err.print(f"{flag}: {reason}", markup=False)
    env.err.print("not started: fix the flags above", markup=False)
    return EXIT_REFUSED


async def start_case(env: CommandEnv, case: CaseInput) -> int:
    from cli.intake_run import Outcome, run_intake

    client = await env.client()
    summary = await run_intake(
        client,
        [(2, case)],
        task_queue=env.settings.task_queues.collections,
        concurrency=1,
        refresh=False,
    )
    [outcome] = summary.outcomes
    if outcome.outcome is Outcome.ALREADY_RUNNING:
        raise CommandError(
            EXIT_CONFLICT,
            f"a case for account {outcome.account_no} is already running ({outcome.workflow_id})",
        )
    if outcome.outcome is Outcome.FAILED:
        raise CommandError(EXIT_USAGE, outcome.note)
    if env.json_output:
        return env.print_json({"case_id": outcome.workflow_id, "account_no": outcome.account_no})
    env.say(f"started {outcome.workflow_id}", "green")
    return EXIT_OK


# --- status, timeline, list ---------------------------------------------------------------------


@case_app.command("status")
def status(account: AccountArg, json_output: JsonOption = False) -> None:
    """Where the case stands: stage, balances, next action, open tasks, handoffs."""
    launch(lambda env: show_status(env, account), json_output=json_output)


async def show_status(env: CommandEnv, account: str) -> int:
    workflow_id = workflow_id_for(account)
    live = await query(
        env, workflow_id, "status", result_type=CaseStatus, label=_label(workflow_id)
    )
    customer = await _customer(env, workflow_id)
    if env.json_output:
        return env.print_json({"status": live, "customer": customer})
    c = live.currency
    promise = live.open_promise
    pairs = [
        ("case", live.case_id),
        ("stage", str(live.stage) + (f" ({live.closed_reason})" if live.closed_reason else "")),
        ("segment", f"{live.segment} (score {live.score}, strategy {live.strategy_version})"),
        ("days past due", str(live.days_past_due)),
        ("outstanding", money(live.outstanding_minor, c)),
        ("overdue", money(live.overdue_minor, c)),
        ("paid", money(live.paid_minor, c)),
        ("next action", f"{live.next_action} at {at_minute(live.next_action_at)}"),
        ("forbearance until", day(live.forbearance_until)),
        ("payment plan", live.plan_status or "-"),
        *[
            (
                f"instalment {day(i.due_date)}",
                f"{money(i.amount_minor, c)}, {money(i.paid_minor, c)} paid, {i.status}",
            )
            for i in live.plan
        ],
        ("overpaid", money(live.overpaid_minor, c)),
        (
            "open promise",
            f"{money(promise.amount_minor, c)} by {day(promise.promised_date)}, "
            f"{money(promise.paid_since_minor, c)} paid since"
            if promise
            else "-",
        ),
        ("promises", f"{live.promises_kept} kept, {live.promises_broken} broken"),
        ("contacts", f"{live.contacts_sent} sent, {live.contacts_refused} refused"),
        ("opted out", ", ".join(live.opted_out) or "-"),
        ("paused", "yes" if live.paused else "no"),
        ("dispute open", "yes" if live.dispute_open else "no"),
        ("risk review", live.risk_review or "-"),
        (
            "legal referral",
            (live.legal_referral or "-")
            + (f" (accepted by {live.legal_accepted_by})" if live.legal_accepted_by else ""),
        ),
        *[
            (f"task {t.kind}", f"{t.status}, due {at_minute(t.deadline)}: {t.key}")
            for t in live.open_tasks
        ],
        *[(k.replace("_", " "), v) for k, v in customer.items()],
    ]
    env.fields(pairs, title=live.case_id)
    return EXIT_OK


async def _customer(env: CommandEnv, workflow_id: str) -> dict[str, str]:
    """Who the customer is, from the read model: the reference, the name and mobile masked.
    Without the database the status still shows, with a warning."""
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import select

    from activities.messaging.privacy import mask_phone
    from readmodel.tables import CaseRow, CustomerRow

    try:
        async with env.database().session() as session:
            case = (
                await session.exec(select(CaseRow).where(CaseRow.case_id == workflow_id))
            ).first()
            if case is None:
                return {}
            who = (
                await session.exec(
                    select(CustomerRow).where(CustomerRow.customer_ref == case.customer_ref)
                )
            ).first()
    except (SQLAlchemyError, OSError) as exc:
        env.warn(f"customer details unavailable: the database failed ({type(exc).__name__})")
        return {}
    customer = {"customer_ref": case.customer_ref}
    if who is not None:
        customer["name_masked"] = mask_name(who.name or "")
        customer["mobile_masked"] = mask_phone(who.mobile)
    return customer


@case_app.command("timeline")
def timeline(
    account: AccountArg,
    last: Annotated[int, typer.Option(min=0, help="Only the last N events; 0: all.")] = 0,
    json_output: JsonOption = False,
) -> None:
    """What happened to the case, oldest first, as the case recorded it."""
    launch(lambda env: show_timeline(env, account, last=last), json_output=json_output)


async def show_timeline(env: CommandEnv, account: str, *, last: int = 0) -> int:
    workflow_id = workflow_id_for(account)
    events = await query(
        env, workflow_id, "timeline", result_type=list[TimelineEvent], label=_label(workflow_id)
    )
    events = events[-last:] if last else events
    if env.json_output:
        shown = [{"at": e.at, "kind": e.kind, "detail": masked(e.detail)} for e in events]
        return env.print_json({"case_id": workflow_id, "events": shown})
    rows = [(at_minute(e.at), e.kind, masked(e.detail)) for e in events]
    env.table(("at", "kind", "detail"), rows, title=f"{workflow_id} timeline")
    return EXIT_OK


@case_app.command("list")
def list_command(
    stage: Annotated[Stage | None, typer.Option(help="Only cases in this stage.")] = None,
    segment: Annotated[Segment | None, typer.Option(help="Only cases of this segment.")] = None,
    min_dpd: Annotated[
        int | None, typer.Option(min=0, help="Only cases at least this many days past due.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 100,
    json_output: JsonOption = False,
) -> None:
    """Cases by stage, segment and days past due, from Temporal's visibility (newest first)."""
    launch(
        lambda env: list_cases(env, stage=stage, segment=segment, min_dpd=min_dpd, limit=limit),
        json_output=json_output,
    )


def visibility_query(
    stage: Stage | None = None, segment: Segment | None = None, min_dpd: int | None = None
) -> str:
    from models.visibility import case_query

    return case_query(stage.value if stage else None, segment.value if segment else None, min_dpd)


async def list_cases(
    env: CommandEnv,
    *,
    stage: Stage | None = None,
    segment: Segment | None = None,
    min_dpd: int | None = None,
    limit: int = 100,
) -> int:
    from temporalio.service import RPCError

    client = await env.client()
    seen: dict[str, WorkflowExecution] = {}
    try:
        async for execution in client.list_workflows(
            visibility_query(stage, segment, min_dpd), limit=limit
        ):
            # A closed case opened again has two executions under one id: show the newest.
            known = seen.get(execution.id)
            if known is None or execution.start_time > known.start_time:
                seen[execution.id] = execution
    except RPCError as error:
        raise CommandError(EXIT_USAGE, f"Temporal refused the list ({error.status.name})") from None
    cases = [_listed(e) for e in sorted(seen.values(), key=lambda e: e.start_time, reverse=True)]
    if env.json_output:
        return env.print_json({"query": visibility_query(stage, segment, min_dpd), "cases": cases})
    if not cases:
        env.say("no cases match")
        return EXIT_OK
    columns = ("case", "stage", "segment", "days past due", "balance", "workflow", "started")
    env.table(columns, [[str(c[k]) for k in c] for c in cases], title="Cases")
    return EXIT_OK


def _listed(execution: WorkflowExecution) -> dict[str, str | int | None]:
    from models.visibility import BALANCE_BAND, CASE_STAGE, DAYS_PAST_DUE, SEGMENT

    found = execution.typed_search_attributes
    return {
        "case_id": execution.id,
        "stage": found.get(CASE_STAGE),
        "segment": found.get(SEGMENT),
        "days_past_due": found.get(DAYS_PAST_DUE),
        "balance_band": found.get(BALANCE_BAND),
        "workflow": execution.status.name.lower() if execution.status else None,
        "started": at_minute(execution.start_time),
    }


# --- operator actions: each is the case's update of the same name -------------------------------


async def act(env: CommandEnv, account: str, update: str, arg: object) -> int:
    workflow_id = workflow_id_for(account)
    result = await execute_update(
        env, workflow_id, update, arg, result_type=ActionResult, label=_label(workflow_id)
    )
    code = EXIT_OK if result.accepted else EXIT_REFUSED
    if env.json_output:
        return env.print_json({"case_id": workflow_id, "action": update, **jsonable(result)}, code)
    if result.accepted:
        env.say(f"{result.message} (stage {result.stage})", "green")
    else:
        env.err.print(f"not accepted: {result.message}", markup=False)
    return code


def _act(account: str, update: str, arg: object, json_output: bool) -> None:
    launch(lambda env: act(env, account, update, arg), json_output=json_output)


def payment_input(
    amount_minor: int, currency: str, ref: str, note: str = "", *, overpayment: bool = False
) -> RecordPaymentInput:
    """What `record-payment`'s flags send to the case."""
    return RecordPaymentInput(amount_minor, currency.upper(), ref, note, overpayment=overpayment)


@case_app.command("record-payment")
def record_payment(
    account: AccountArg,
    amount_minor: Annotated[int, typer.Option(help="Minor units (fen, cents).")],
    currency: Annotated[str, typer.Option(help="The account's currency, e.g. CNY.")],
    ref: Annotated[str, typer.Option(help="The bank's payment reference; once per account.")],
    note: str = "",
    overpayment: Annotated[
        bool,
        typer.Option(
            "--overpayment",
            help="The amount is above the balance on purpose: without this the case refuses it.",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """A payment received: may keep a promise, cure or close the case."""
    req = payment_input(amount_minor, currency, ref, note, overpayment=overpayment)
    _act(account, "record_payment", req, json_output)


@case_app.command("promise-to-pay")
def promise_to_pay(
    account: AccountArg,
    amount_minor: Annotated[int, typer.Option(help="Minor units (fen, cents).")],
    currency: Annotated[str, typer.Option(help="The account's currency, e.g. CNY.")],
    on: Annotated[datetime, typer.Option("--date", formats=["%Y-%m-%d"], help="YYYY-MM-DD.")],
    note: str = "",
    json_output: JsonOption = False,
) -> None:
    """The customer promises to pay by a date: contact pauses until then."""
    req = PromiseToPayInput(amount_minor, currency.upper(), on.date(), note)
    _act(account, "promise_to_pay", req, json_output)


@case_app.command("raise-dispute")
def raise_dispute(account: AccountArg, reason: Reason, json_output: JsonOption = False) -> None:
    """The customer disputes the debt: collection stops until it is resolved."""
    _act(account, "raise_dispute", ReasonInput(reason), json_output)


@case_app.command("resolve-dispute")
def resolve_dispute(
    account: AccountArg,
    upheld: Annotated[
        bool,
        typer.Option("--upheld/--rejected", help="Upheld closes the case.", show_default=False),
    ],
    reason: Reason,
    json_output: JsonOption = False,
) -> None:
    """The dispute's outcome: upheld closes the case, rejected resumes collection."""
    _act(account, "resolve_dispute", ResolveDisputeInput(upheld, reason), json_output)


@case_app.command("report-hardship")
def report_hardship(account: AccountArg, reason: Reason, json_output: JsonOption = False) -> None:
    """The customer reports hardship: the case goes to the risk department."""
    _act(account, "report_hardship", ReasonInput(reason), json_output)


ChannelOpt = Annotated[Channel, typer.Option(help="The channel.")]


@case_app.command("opt-out")
def opt_out(
    account: AccountArg, channel: ChannelOpt, reason: str = "", json_output: JsonOption = False
) -> None:
    """No more contact on the channel; taken even on a closed case."""
    _act(account, "opt_out", ChannelInput(channel, reason), json_output)


@case_app.command("opt-in")
def opt_in(
    account: AccountArg, channel: ChannelOpt, reason: str = "", json_output: JsonOption = False
) -> None:
    """Contact on the channel is allowed again."""
    _act(account, "opt_in", ChannelInput(channel, reason), json_output)


@case_app.command("pause")
def pause(account: AccountArg, reason: Reason, json_output: JsonOption = False) -> None:
    """Nothing goes out until the case is resumed."""
    _act(account, "pause", ReasonInput(reason), json_output)


@case_app.command("resume")
def resume(account: AccountArg, reason: Reason, json_output: JsonOption = False) -> None:
    """Lift a pause."""
    _act(account, "resume", ReasonInput(reason), json_output)


class ManualClosure(StrEnum):
    """How an operator may close a case; payments close it as paid or cured."""

    SETTLED = "settled"
    WRITTEN_OFF = "written_off"
    MANUAL = "manual"


@case_app.command("close")
def close(
    account: AccountArg,
    reason: Annotated[ManualClosure, typer.Option(help="How the case ends.")],
    note: Annotated[str, typer.Option(help="Why; required.")],
    json_output: JsonOption = False,
) -> None:
    """Close the case: settled, written off or manual. Open tasks are cancelled."""
    _act(account, "close", CloseInput(ClosureReason(reason.value), note), json_output)
