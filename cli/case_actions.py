"""`collections case <action>`: one command per operator action of the catalogue
(`operations.catalogue.CASE_ACTIONS`), named as the case's update with dashes. The flags are
the command line's own; what they build is the action's input, and the case validates it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import typer
from temporalio.workflow import UpdateMethodMultiParam

from cli.actions import (
    EXIT_OK,
    EXIT_REFUSED,
    CommandEnv,
    JsonOption,
    jsonable,
    launch,
    settled,
)
from cli.generated import Launch, command_from_input
from models.complaints import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintInput,
    ComplaintOutcome,
    ResolveComplaintInput,
)
from models.contact_details import (
    ChangeAddressInput,
    ChangeMobileInput,
    ContactSource,
    WrongNumberInput,
)
from models.contracts import (
    ActionResult,
    ChannelInput,
    CloseInput,
    ClosureReason,
    PromiseToPayInput,
    ReasonInput,
    RecordPaymentInput,
    ResolveDisputeInput,
    case_id,
)
from models.strategy import Channel
from operations.answers import Outcome
from operations.catalogue import CASE_ACTIONS, CaseAction, update_name
from workflows.case import CollectionCaseWorkflow as Case

AccountArg = Annotated[str, typer.Argument(metavar="ACCOUNT", help="The account number.")]
Reason = Annotated[str, typer.Option(help="Why; recorded on the case's timeline.")]
ChannelOpt = Annotated[Channel, typer.Option(help="The channel.")]


def workflow_id_for(account: str) -> str:
    account = account.strip()
    return account if account.startswith("case-") else case_id(account)


def case_label(workflow_id: str) -> str:
    return f"case for account {workflow_id.removeprefix('case-')}"


A = TypeVar("A")
CaseUpdate = UpdateMethodMultiParam[[Any, A], ActionResult]


async def act(env: CommandEnv, account: str, update: CaseUpdate[A], arg: A) -> int:
    """Runs one of the case's updates (an action, or a task's claim or completion), or, for
    one that needs a second person (a write-off ...), asks for their approval instead: the
    request's id is printed, and `collections approvals` decides it."""
    from operations.approvals import act_or_ask

    workflow_id = workflow_id_for(account)
    gateway = await env.gateway()
    answer = await act_or_ask(gateway, env.database(), workflow_id, update, arg)
    if answer.outcome is Outcome.AWAITING_APPROVAL:
        if env.json_output:
            document = {"case_id": workflow_id, "action": update_name(update)}
            return env.print_json(
                {**document, "approval_id": answer.approval_id, "message": answer.message}
            )
        env.say(f"{answer.message} (collections approvals approve {answer.approval_id})")
        return EXIT_OK
    result = await settled(env, answer, case_label(workflow_id), action=True)
    code = EXIT_OK if result.accepted else EXIT_REFUSED
    if env.json_output:
        document = {"case_id": workflow_id, "action": update_name(update), **jsonable(result)}
        return env.print_json(document, code)
    if result.accepted:
        env.say(f"{result.message} (stage {result.stage})", "green")
    else:
        env.err.print(f"not accepted: {result.message}", markup=False)
    return code


def _act(account: str, update: CaseUpdate[A], arg: A, json_output: bool) -> None:
    launch(lambda env: act(env, account, update, arg), json_output=json_output)


def payment_input(
    amount_minor: int, currency: str, ref: str, note: str = "", *, overpayment: bool = False
) -> RecordPaymentInput:
    """What `record-payment`'s flags send to the case."""
    return RecordPaymentInput(amount_minor, currency.upper(), ref, note, overpayment=overpayment)


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
    _act(account, Case.record_payment, req, json_output)


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
    _act(account, Case.promise_to_pay, req, json_output)


def raise_dispute(account: AccountArg, reason: Reason, json_output: JsonOption = False) -> None:
    """The customer disputes the debt: collection stops until it is resolved."""
    _act(account, Case.raise_dispute, ReasonInput(reason), json_output)


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
    _act(account, Case.resolve_dispute, ResolveDisputeInput(upheld, reason), json_output)


def report_hardship(account: AccountArg, reason: Reason, json_output: JsonOption = False) -> None:
    """The customer reports hardship: the case goes to the risk department."""
    _act(account, Case.report_hardship, ReasonInput(reason), json_output)


def opt_out(
    account: AccountArg, channel: ChannelOpt, reason: str = "", json_output: JsonOption = False
) -> None:
    """No more contact on the channel; taken even on a closed case."""
    _act(account, Case.opt_out, ChannelInput(channel, reason), json_output)


def opt_in(
    account: AccountArg, channel: ChannelOpt, reason: str = "", json_output: JsonOption = False
) -> None:
    """Contact on the channel is allowed again."""
    _act(account, Case.opt_in, ChannelInput(channel, reason), json_output)


def pause(account: AccountArg, reason: Reason, json_output: JsonOption = False) -> None:
    """Nothing goes out until the case is resumed."""
    _act(account, Case.pause, ReasonInput(reason), json_output)


def resume(account: AccountArg, reason: Reason, json_output: JsonOption = False) -> None:
    """Lift a pause."""
    _act(account, Case.resume, ReasonInput(reason), json_output)


class ManualClosure(StrEnum):
    """How an operator may close a case; payments close it as paid or cured."""

    SETTLED = "settled"
    WRITTEN_OFF = "written_off"
    MANUAL = "manual"


def close(
    account: AccountArg,
    reason: Annotated[ManualClosure, typer.Option(help="How the case ends.")],
    note: Annotated[str, typer.Option(help="Why; required.")],
    json_output: JsonOption = False,
) -> None:
    """Close the case: settled, written off or manual. Open tasks are cancelled."""
    _act(account, Case.close, CloseInput(ClosureReason(reason.value), note), json_output)


def raise_complaint(
    account: AccountArg,
    category: Annotated[ComplaintCategory, typer.Option(help="What it is about.")],
    channel: Annotated[ComplaintChannel, typer.Option(help="How it came in.")],
    asks: Annotated[str, typer.Option(help="What the customer asks for.")],
    json_output: JsonOption = False,
) -> None:
    """Record a customer's complaint: a supervisor answers it by its deadline."""
    _act(account, Case.raise_complaint, ComplaintInput(category, channel, asks), json_output)


def resolve_complaint(
    account: AccountArg,
    key: Annotated[str, typer.Option(help="The complaint, as `case status` lists it.")],
    outcome: Annotated[ComplaintOutcome, typer.Option(help="The complaint's outcome.")],
    response: Annotated[str, typer.Option(help="What the bank answers the customer.")],
    json_output: JsonOption = False,
) -> None:
    """Answer an open complaint; collection resumes once none holds it."""
    answer = ResolveComplaintInput(key, outcome, response)
    _act(account, Case.resolve_complaint, answer, json_output)


SourceOpt = Annotated[ContactSource, typer.Option(help="Where it came from.")]
VerifiedOpt = Annotated[
    bool, typer.Option("--verified/--unverified", help="Confirmed with the customer.")
]


def change_mobile(
    account: AccountArg,
    mobile: Annotated[str, typer.Option(help="E.164, e.g. +8613800138000.")],
    source: SourceOpt,
    verified: VerifiedOpt = False,
    json_output: JsonOption = False,
) -> None:
    """A new mobile number: texts and calls go to it from now on."""
    _act(account, Case.change_mobile, ChangeMobileInput(mobile, source, verified), json_output)


def change_address(
    account: AccountArg,
    address: Annotated[str, typer.Option(help="Where a field visit goes.")],
    source: SourceOpt,
    verified: VerifiedOpt = False,
    json_output: JsonOption = False,
) -> None:
    """An address for a field visit."""
    change = ChangeAddressInput(address, source, verified)
    _act(account, Case.change_address, change, json_output)


def mark_number_wrong(account: AccountArg, reason: Reason, json_output: JsonOption = False) -> None:
    """The number reaches someone else: no text or call goes to it; a visit is planned."""
    _act(account, Case.mark_number_wrong, WrongNumberInput(reason), json_output)


# The command of each catalogue action, by the case's update.
_COMMANDS: dict[object, Callable[..., None]] = {
    Case.record_payment: record_payment,
    Case.promise_to_pay: promise_to_pay,
    Case.raise_dispute: raise_dispute,
    Case.resolve_dispute: resolve_dispute,
    Case.report_hardship: report_hardship,
    Case.opt_out: opt_out,
    Case.opt_in: opt_in,
    Case.pause: pause,
    Case.resume: resume,
    Case.close: close,
    Case.change_mobile: change_mobile,
    Case.change_address: change_address,
    Case.mark_number_wrong: mark_number_wrong,
    Case.raise_complaint: raise_complaint,
    Case.resolve_complaint: resolve_complaint,
}


def add_action_commands(app: typer.Typer) -> None:
    """One command per catalogue action, in the catalogue's order: the one written here, or
    one made from its input (`cli.generated`); a command here for no action fails at start-up."""
    actions = list(CASE_ACTIONS.values())
    if extra := set(_COMMANDS) - {a.update for a in actions}:
        raise RuntimeError(f"case commands for no action of the catalogue: {extra}")
    for action in actions:
        app.command(action.command)(_COMMANDS.get(action.update) or generated_command(action))


def generated_command(action: CaseAction, run: Launch = launch) -> Callable[..., None]:
    """`ACCOUNT`, then one option per field of the action's input."""
    return command_from_input(
        f"case {action.command}",
        action.input_type,
        ("account", AccountArg),
        lambda env, account, req: act(env, account, action.update, req),
        summary=action.summary,
        launcher=run,
    )
