"""`collections case`: start one case, look one up, list cases, and act on one as an operator.

- `start --account-no ... --strategy ...`: one account, the daily file's columns as flags,
  checked exactly as `intake` checks a row (same messages).
- `status ACCOUNT`, `timeline ACCOUNT`: the case's own answers (queries). `status` is the one
  place that shows who the customer is: the reference, the name and the mobile masked; after a
  risk decision it shows the forbearance's end or the payment plan, instalment by instalment.
- `list [--stage] [--segment] [--min-dpd]`: Temporal visibility over the cases' search
  attributes; no personal data.
- One command per operator action of the catalogue (`cli.case_actions`, checked against
  `operations.catalogue.CASE_ACTIONS`), named as the case's update with dashes: `record-payment`,
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
from datetime import UTC, date, datetime
from typing import Annotated, Any

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
    launch,
    mask_name,
    masked,
    settled,
)
from cli.case_actions import (
    AccountArg,
    act,
    add_action_commands,
    case_label,
    payment_input,
    workflow_id_for,
)
from config.settings import load_settings
from models.case_events import entry_text
from models.contracts import CaseInput, Stage, TimelineEvent
from models.intake import COLUMNS, REQUIRED, RowError, parse_intake
from models.money import money
from models.strategy import Segment
from workflows.case import CollectionCaseWorkflow as Case

__all__ = ["act", "case_app", "payment_input", "workflow_id_for"]

case_app = typer.Typer(
    name="case", help="Start, look up, list and act on cases.", no_args_is_help=True
)

_HELP = {c.name: f"{c.description} ({'required' if c.required else 'optional'})" for c in COLUMNS}


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
    from operations.intake import Outcome, run_intake

    # No assessor, as `collections intake`: the case assesses itself with the workers' policy.
    summary = await run_intake(
        await env.gateway(),
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
    answer = await (await env.gateway()).query(workflow_id, Case.status)
    # A quiet case does not wake to count its days past due: counted here, now.
    live = (await settled(env, answer, case_label(workflow_id))).as_of(datetime.now(UTC))
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

    from models.privacy import mask_phone
    from readmodel import queries

    try:
        found = await queries.get_case_customer(env.database(), case_id=workflow_id)
    except (SQLAlchemyError, OSError) as exc:
        env.warn(f"customer details unavailable: the database failed ({type(exc).__name__})")
        return {}
    if found is None:
        return {}
    case, who = found
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


def _text(event: TimelineEvent) -> str:
    return entry_text(event.kind, event.detail, event.data)


async def show_timeline(env: CommandEnv, account: str, *, last: int = 0) -> int:
    workflow_id = workflow_id_for(account)
    answer = await (await env.gateway()).query(workflow_id, Case.timeline)
    events = await settled(env, answer, case_label(workflow_id))
    events = events[-last:] if last else events
    if env.json_output:
        shown = [
            {"at": e.at, "kind": e.kind, "detail": masked(_text(e)), "by": e.actor} for e in events
        ]
        return env.print_json({"case_id": workflow_id, "events": shown})
    rows = [(at_minute(e.at), e.kind, masked(_text(e)), e.actor or "-") for e in events]
    env.table(("at", "kind", "detail", "by"), rows, title=f"{workflow_id} timeline")
    return EXIT_OK


@case_app.command("list")
def list_command(
    stage: Annotated[Stage | None, typer.Option(help="Only cases in this stage.")] = None,
    segment: Annotated[Segment | None, typer.Option(help="Only cases of this segment.")] = None,
    min_dpd: Annotated[
        int | None, typer.Option(min=0, help="Only cases at least this many days past due.")
    ] = None,
    query: Annotated[
        str | None,
        typer.Option(
            help="A visibility query over the search attributes, e.g. "
            "'CaseStage = \"collector\" AND DaysPastDue > 60'."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 100,
    json_output: JsonOption = False,
) -> None:
    """Cases by stage, segment and days past due, from Temporal's visibility (newest first)."""
    launch(
        lambda env: list_cases(
            env, stage=stage, segment=segment, min_dpd=min_dpd, query=query, limit=limit
        ),
        json_output=json_output,
    )


def visibility_query(
    stage: Stage | None = None,
    segment: Segment | None = None,
    min_dpd: int | None = None,
    query: str | None = None,
) -> str:
    """The search as people write it (`DaysPastDue` included); `operations.case_search` asks
    it of what the cases hold."""
    from models.visibility import case_query

    return case_query(
        stage.value if stage else None, segment.value if segment else None, min_dpd, query
    )


async def list_cases(
    env: CommandEnv,
    *,
    stage: Stage | None = None,
    segment: Segment | None = None,
    min_dpd: int | None = None,
    query: str | None = None,
    limit: int = 100,
) -> int:
    from operations.case_search import search_day
    from operations.cases import search

    answer = await search(
        await env.gateway(),
        stage=stage.value if stage else None,
        segment=segment.value if segment else None,
        min_dpd=min_dpd,
        typed=query,
        limit=limit,
        day=search_day(env.settings),
    )
    if not answer.ok:
        raise CommandError(EXIT_USAGE, answer.message)
    cases: list[dict[str, str | int | None]] = [
        {
            "case_id": c.case_id,
            "stage": c.stage,
            "segment": c.segment,
            "days_past_due": c.days_past_due,
            "balance_band": c.balance_band,
            "workflow": c.status,
            "started": at_minute(c.started_at),
        }
        for c in answer.unwrap()
    ]
    if env.json_output:
        shown = visibility_query(stage, segment, min_dpd, query)
        return env.print_json({"query": shown, "cases": cases})
    if not cases:
        env.say("no cases match")
        return EXIT_OK
    columns = ("case", "stage", "segment", "days past due", "balance", "workflow", "started")
    env.table(columns, [[str(c[k]) for k in c] for c in cases], title="Cases")
    return EXIT_OK


add_action_commands(case_app)
