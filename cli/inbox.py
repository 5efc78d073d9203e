"""`collections inbox`: the risk and legal departments' handoffs.

- `list --department risk|legal [--status S]`, from the database (`handoffs`), oldest first.
- `show KEY`: the handoff's row, and what its workflow answers now (`review` / `referral`).
- `dossier KEY [--json]`: the dossier sent along, as printable text (legal's evidence dossier,
  or the case summary a risk review carries); no names or phone numbers are in it.
- risk: `decide KEY --kind forbearance|payment_plan|restructure|proceed --by X --reason R
  [--until DATE] [--instalment DATE:AMOUNT ...]`.
- legal: `accept KEY --by X`, `return KEY --by X --reason R`, `proceeding KEY --kind K --on DATE
  --by X [--amount-minor N] [--note]`, `contact-permission KEY --allow/--deny --by X --reason R`.
KEY is the handoff's key as listed, also its workflow's id (`risk-…`, `legal-…`). Each action
is that workflow's update of the same name, and the workflow validates.

Exit codes: 0 done; 1 refused by the department's workflow (nothing changed); 2 usage error,
Temporal or the database unreachable; 3 no such handoff (or one of the other department);
4 the handoff's workflow has finished. See `cli.actions`.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.actions import (
    EXIT_NOT_FOUND,
    EXIT_OK,
    CommandEnv,
    CommandError,
    JsonOption,
    at_minute,
    day,
    jsonable,
    launch,
    masked,
    settled,
)
from cli.handoff_views import decision_text, referral_fields, review_fields
from models.departments import (
    AcceptReferralInput,
    ContactPermissionInput,
    Instalment,
    LegalReferralStatus,
    ProceedingInput,
    ProceedingKind,
    ReturnReferralInput,
    RiskDecision,
    RiskDecisionKind,
    RiskReviewStatus,
)
from operations.catalogue import update_name
from workflows.legal_referral import LegalReferralWorkflow as Legal
from workflows.risk_review import RiskReviewWorkflow as Risk

if TYPE_CHECKING:
    from readmodel.tables import HandoffRow

inbox_app = typer.Typer(
    name="inbox", help="The risk and legal departments' handoffs.", no_args_is_help=True
)

# A quick look: `show` still prints the row when the workflow does not answer.
SHOW_WAIT = 10.0


class Department(StrEnum):
    RISK = "risk"
    LEGAL = "legal"


_WHAT = {Department.RISK: "risk review", Department.LEGAL: "legal referral"}

KeyArg = Annotated[str, typer.Argument(metavar="KEY", help="The handoff's key, as listed.")]
ByOpt = Annotated[str, typer.Option(help="Who decides (a staff id).")]
ReasonOpt = Annotated[str, typer.Option(help="Why; recorded on the handoff.")]


# --- the inbox --------------------------------------------------------------------------------


@inbox_app.command("list")
def list_command(
    department: Annotated[Department, typer.Option(help="Whose inbox.")],
    status: Annotated[str | None, typer.Option(help="Only handoffs in this status.")] = None,
    json_output: JsonOption = False,
) -> None:
    """A department's handoffs, oldest first."""
    launch(lambda env: list_inbox(env, department, status=status), json_output=json_output)


async def list_inbox(env: CommandEnv, department: Department, *, status: str | None = None) -> int:
    from readmodel import queries

    rows = await queries.list_handoffs(env.database(), department=department.value, status=status)
    if env.json_output:
        return env.print_json({"department": department, "handoffs": [_row(r) for r in rows]})
    if not rows:
        env.say(f"no {department} handoffs match")
        return EXIT_OK
    env.table(
        ("key", "case", "status", "updated", "reason"),
        [
            (r.idempotency_key, r.case_id, r.status, at_minute(r.updated_at), masked(r.reason))
            for r in rows
        ],
        title=f"{department.capitalize()} inbox",
    )
    return EXIT_OK


def _row(row: HandoffRow) -> dict[str, Any]:
    return {
        "key": row.idempotency_key,
        "case_id": row.case_id,
        "department": row.department,
        "status": row.status,
        "reason": masked(row.reason),
        "created_at": jsonable(row.created_at),
        "updated_at": jsonable(row.updated_at),
    }


async def handoff(env: CommandEnv, key: str, department: Department | None = None) -> HandoffRow:
    """The handoff's row; not found (3) without one, or when it is another department's."""
    from readmodel import queries

    row = await queries.get_handoff(env.database(), key=key)
    if row is None:
        raise CommandError(EXIT_NOT_FOUND, f"no handoff {key}")
    if department is not None and row.department != department:
        raise CommandError(
            EXIT_NOT_FOUND, f"no {_WHAT[department]} {key}: it is a {row.department} handoff"
        )
    return row


@inbox_app.command("show")
def show(key: KeyArg, json_output: JsonOption = False) -> None:
    """A handoff: its row, and where its workflow stands now."""
    launch(lambda env: show_handoff(env, key), json_output=json_output)


async def show_handoff(env: CommandEnv, key: str) -> int:
    row = await handoff(env, key)
    department = Department(row.department)
    risk = department is Department.RISK
    # The document's key is the query's name: "review" or "referral".
    name = Risk.review.__name__ if risk else Legal.referral.__name__
    live: RiskReviewStatus | LegalReferralStatus | None = None
    gateway = await env.gateway()
    label = _label(department, key)
    try:
        async with asyncio.timeout(SHOW_WAIT):
            if risk:
                live = await settled(env, await gateway.query(key, Risk.review), label)
            else:
                live = await settled(env, await gateway.query(key, Legal.referral), label)
    except TimeoutError:
        env.warn(
            f"live state unavailable: no answer from the {label} within {SHOW_WAIT:g} s "
            "(is a worker running?)"
        )
    except CommandError as error:
        env.warn(f"live state unavailable: {error.message}")
    if env.json_output:
        return env.print_json({"handoff": _row(row), name: live})
    pairs = [
        ("key", row.idempotency_key),
        ("department", row.department),
        ("case", row.case_id),
        ("status", row.status),
        ("reason", masked(row.reason)),
        ("opened", at_minute(row.created_at)),
        ("updated", at_minute(row.updated_at)),
    ]
    if isinstance(live, RiskReviewStatus):
        pairs += review_fields(live)
    elif isinstance(live, LegalReferralStatus):
        pairs += referral_fields(live)
    env.fields(pairs, title=key)
    return EXIT_OK


@inbox_app.command("dossier")
def dossier(key: KeyArg, json_output: JsonOption = False) -> None:
    """The dossier sent with the handoff: printable text, or `--json` as stored."""
    launch(lambda env: show_dossier(env, key), json_output=json_output)


async def show_dossier(env: CommandEnv, key: str) -> int:
    from readmodel.dossier_text import render_dossier_text

    row = await handoff(env, key)
    document = row.dossier
    if not document:
        raise CommandError(EXIT_NOT_FOUND, f"{key} has no dossier yet (it is built on referral)")
    if env.json_output:
        return env.print_json({"key": key, "dossier": document})
    if "format" in document:  # legal's evidence dossier
        env.out.file.write(render_dossier_text(document))
        return EXIT_OK
    summary = document.get("summary") or {}
    env.fields([(str(k).replace("_", " "), str(v)) for k, v in summary.items()], title=key)
    return EXIT_OK


def _label(department: Department, key: str) -> str:
    return f"{_WHAT[department]} {key}"


async def _update(
    env: CommandEnv, key: str, department: Department, update: Any, arg: object
) -> Any:
    await handoff(env, key, department)
    answer = await (await env.gateway()).update(key, update, arg)
    return await settled(env, answer, _label(department, key), action=True)


# --- risk -----------------------------------------------------------------------------------


@inbox_app.command("decide")
def decide(
    key: KeyArg,
    kind: Annotated[RiskDecisionKind, typer.Option(help="The decision.")],
    by: ByOpt,
    reason: ReasonOpt,
    until: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="A forbearance's end.")
    ] = None,
    instalment: Annotated[
        list[str] | None,
        typer.Option(help="A payment plan's instalment as DATE:AMOUNT_MINOR; repeat, in order."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """The risk department's decision on a review."""
    decision = RiskDecision(
        kind=kind,
        decided_by=by,
        reason=reason,
        forbearance_until=until.date() if until else None,
        instalments=parse_instalments(instalment or []),
    )
    launch(lambda env: decide_review(env, key, decision), json_output=json_output)


def parse_instalments(values: list[str]) -> tuple[Instalment, ...]:
    """`2026-12-10:30000` -> an instalment of 30000 minor units due that day."""
    instalments = []
    for value in values:
        due, _, amount = value.partition(":")
        try:
            instalments.append(
                Instalment(due_date=date.fromisoformat(due.strip()), amount_minor=int(amount))
            )
        except ValueError:
            raise typer.BadParameter(
                f"{value!r} is not DATE:AMOUNT_MINOR (e.g. 2026-12-10:30000)",
                param_hint="--instalment",
            ) from None
    return tuple(instalments)


async def decide_review(env: CommandEnv, key: str, decision: RiskDecision) -> int:
    taken: RiskDecision = await _update(env, key, Department.RISK, Risk.decide, decision)
    if env.json_output:
        return env.print_json({"key": key, "decision": taken})
    env.say(f"decided: {decision_text(taken, '')}", "green")
    return EXIT_OK


# --- legal ----------------------------------------------------------------------------------


async def _legal(env: CommandEnv, key: str, update: Any, arg: object) -> int:
    status: LegalReferralStatus = await _update(env, key, Department.LEGAL, update, arg)
    if env.json_output:
        return env.print_json({"key": key, "action": update_name(update), "referral": status})
    last = status.proceedings[-1] if status.proceedings else None
    words = [f"{key}: {status.status}"]
    if status.accepted_by:
        words.append(f"accepted by {status.accepted_by}")
    if last is not None:
        words.append(f"last proceeding {last.kind} on {day(last.on)}")
    words.append(f"contact {'allowed' if status.contact_allowed else 'not allowed'}")
    env.say("; ".join(words), "green")
    return EXIT_OK


@inbox_app.command("accept")
def accept(key: KeyArg, by: ByOpt, note: str = "", json_output: JsonOption = False) -> None:
    """Legal takes the referral."""
    req = AcceptReferralInput(by=by, note=note)
    launch(lambda env: accept_referral(env, key, req), json_output=json_output)


async def accept_referral(env: CommandEnv, key: str, req: AcceptReferralInput) -> int:
    return await _legal(env, key, Legal.accept, req)


@inbox_app.command("return")
def return_command(
    key: KeyArg, by: ByOpt, reason: ReasonOpt, json_output: JsonOption = False
) -> None:
    """Legal sends the referral back to the collectors, with a reason."""
    req = ReturnReferralInput(by=by, reason=reason)
    launch(lambda env: return_referral(env, key, req), json_output=json_output)


async def return_referral(env: CommandEnv, key: str, req: ReturnReferralInput) -> int:
    return await _legal(env, key, Legal.return_referral, req)


@inbox_app.command("proceeding")
def proceeding(
    key: KeyArg,
    kind: Annotated[ProceedingKind, typer.Option(help="What happened in the proceedings.")],
    on: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="When: YYYY-MM-DD.")],
    by: ByOpt,
    amount_minor: Annotated[
        int | None, typer.Option(help="A judgment's or settlement's amount, minor units.")
    ] = None,
    note: str = "",
    json_output: JsonOption = False,
) -> None:
    """Record a step of the proceedings; settled or closed ends the referral and the case."""
    req = ProceedingInput(kind=kind, on=on.date(), by=by, note=note, amount_minor=amount_minor)
    launch(lambda env: record_proceeding(env, key, req), json_output=json_output)


async def record_proceeding(env: CommandEnv, key: str, req: ProceedingInput) -> int:
    return await _legal(env, key, Legal.record_proceeding, req)


@inbox_app.command("contact-permission")
def contact_permission(
    key: KeyArg,
    allowed: Annotated[
        bool,
        typer.Option(
            "--allow/--deny", help="May collectors contact the customer.", show_default=False
        ),
    ],
    by: ByOpt,
    reason: ReasonOpt,
    json_output: JsonOption = False,
) -> None:
    """Let the collection center contact the customer while legal holds the case, or stop it."""
    req = ContactPermissionInput(allowed=allowed, by=by, reason=reason)
    launch(lambda env: set_contact_permission(env, key, req), json_output=json_output)


async def set_contact_permission(env: CommandEnv, key: str, req: ContactPermissionInput) -> int:
    return await _legal(env, key, Legal.set_contact_permission, req)
