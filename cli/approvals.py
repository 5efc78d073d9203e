"""`collections approvals`: the actions that wait for a second person (maker-checker).

Writing off, settling, resolving a dispute for the customer and approving a legal referral,
asked from any front end (`collections case close --reason written_off ...`), wait here as a
request (`operations.approvals`).
- `list [--json]`: the pending requests, oldest first.
- `approve ID`: runs the request as its maker, approved by you; the case's timeline names both.
- `reject ID --reason R`: declines it; nothing is sent to the case.
Deciding is a person's act: the command line's actor (COLLECTIONS_ACTOR, or the login name)
must be an active supervisor of the staff directory, and not the one who asked.

Exit codes: 0 done; 1 refused (not a supervisor in the directory, one's own request, a blank
reason, or the case refused the action); 2 Temporal or the database unreachable; 3 no such
request, or no case; 4 the request is already decided, or the case has finished.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.actions import (
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_REFUSED,
    CommandEnv,
    CommandError,
    JsonOption,
    answered,
    at_minute,
    jsonable,
    launch,
    masked,
    settled,
)
from cli.case_actions import case_label

if TYPE_CHECKING:
    from operations.staff import Person
    from readmodel.tables import ApprovalRow

approvals_app = typer.Typer(
    name="approvals", help="Actions waiting for a second person.", no_args_is_help=True
)

IdArg = Annotated[int, typer.Argument(metavar="ID", help="The request's id, as listed.")]
_FREE_TEXT = ("note", "reason")  # typed by people: phone numbers masked when shown


def shown_input(values: dict[str, Any]) -> dict[str, Any]:
    """The request's input as shown: the free text people typed with phone numbers masked."""
    return {
        name: masked(value) if name in _FREE_TEXT and isinstance(value, str) else value
        for name, value in values.items()
    }


def request_view(row: ApprovalRow) -> dict[str, Any]:
    return {
        "approval_id": row.id,
        "case_id": row.case_id,
        "action": row.action,
        "needs": row.needs,
        "input": shown_input(row.input),
        "status": row.status,
        "requested_by": row.requested_by,
        "requested_via": row.requested_via,
        "requested_at": row.requested_at,
    }


def input_text(values: dict[str, Any]) -> str:
    """`name=value` pairs of what is set."""
    return ", ".join(
        f"{name}={value}"
        for name, value in shown_input(values).items()
        if value not in (None, "", [], {})
    )


@approvals_app.command("list")
def list_(json_output: JsonOption = False) -> None:
    """The requests that wait for a second person, oldest first."""
    launch(list_pending, json_output=json_output)


async def list_pending(env: CommandEnv) -> int:
    from operations import approvals

    rows = await approvals.pending(env.database())
    if env.json_output:
        return env.print_json({"approvals": [request_view(r) for r in rows]})
    if not rows:
        env.say("no request waits for a second person")
        return EXIT_OK
    table = [
        (
            str(r.id),
            r.case_id,
            r.action,
            r.needs,
            f"{r.requested_by} ({r.requested_via})",
            at_minute(r.requested_at),
            input_text(r.input),
        )
        for r in rows
    ]
    env.table(("id", "case", "action", "needs", "asked by", "asked at", "input"), table)
    return EXIT_OK


async def checker(env: CommandEnv) -> Person:
    """The command line's actor as a person of the directory, who may decide requests."""
    from operations import staff
    from operations.roles import Role

    actor = env.actor()
    person = await staff.active_person(env.database(), actor)
    if person is None:
        raise CommandError(
            EXIT_REFUSED,
            f"refused: deciding a request is a person's act, and {actor} is no active member of "
            "the staff directory (set COLLECTIONS_ACTOR to your staff id)",
        )
    if Role.SUPERVISOR not in person.roles:
        raise CommandError(
            EXIT_REFUSED,
            f"refused: deciding a request needs the role supervisor, and {actor} has "
            f"{', '.join(sorted(person.roles))}",
        )
    return person


@approvals_app.command("approve")
def approve(approval_id: IdArg, json_output: JsonOption = False) -> None:
    """Run the request as its maker, approved by you."""
    launch(lambda env: approve_request(env, approval_id), json_output=json_output)


async def approve_request(env: CommandEnv, approval_id: int) -> int:
    from models.contracts import ActionResult
    from operations import approvals

    person = await checker(env)
    row = await approvals.get(env.database(), approval_id)
    if row is None:
        raise CommandError(EXIT_NOT_FOUND, f"no approval request {approval_id}")
    answer = await approvals.approve(await env.gateway(), env.database(), approval_id, person)
    # Its NOT_FOUND and finished CLOSED are the case's: the request was found above.
    result = await settled(env, answer, case_label(row.case_id), action=True)
    assert isinstance(result, ActionResult)
    code = EXIT_OK if result.accepted else EXIT_REFUSED
    if env.json_output:
        document = {"approval_id": approval_id, "case_id": row.case_id, "action": row.action}
        return env.print_json({**document, "approved_by": person.id, **jsonable(result)}, code)
    if result.accepted:
        env.say(
            f"request {approval_id} approved by {person.id}: {result.message} "
            f"(stage {result.stage})",
            "green",
        )
    else:
        env.err.print(f"not accepted: {result.message}", markup=False)
    return code


@approvals_app.command("reject")
def reject(
    approval_id: IdArg,
    reason: Annotated[str, typer.Option(help="Why; recorded on the request.")],
    json_output: JsonOption = False,
) -> None:
    """Decline the request; nothing is sent to the case."""
    launch(lambda env: reject_request(env, approval_id, reason), json_output=json_output)


async def reject_request(env: CommandEnv, approval_id: int, reason: str) -> int:
    from operations import approvals

    person = await checker(env)
    answer = await approvals.reject(env.database(), approval_id, person, reason)
    if not answer.ok:  # no Temporal call was made: nothing waited for an answer
        raise CommandError(*answered(answer, f"approval request {approval_id}", within=0))
    row = answer.unwrap()
    message = f"request {approval_id} rejected by {person.id}; nothing was sent to the case"
    if env.json_output:
        document = {"approval_id": approval_id, "case_id": row.case_id, "action": row.action}
        return env.print_json(
            {**document, "status": "rejected", "decided_by": person.id, "message": message}
        )
    env.say(message)
    return EXIT_OK
