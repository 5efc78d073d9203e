"""`collections audit who-saw ACCOUNT`: who saw this customer's contact details, dossier or
decoded payloads, when, through which front end and why, newest first (`operations.access`).
It names staff and the account only; a reason is shown with phone numbers masked.

Exit codes: 0 (also when nobody has looked); 2 the database unreachable. See `cli.actions`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cli.actions import EXIT_OK, CommandEnv, JsonOption, at_minute, launch, masked

audit_app = typer.Typer(
    name="audit", help="Who saw a customer's personal data, and why.", no_args_is_help=True
)


@audit_app.command("who-saw")
def who_saw(
    account: Annotated[str, typer.Argument(metavar="ACCOUNT", help="The account number.")],
    json_output: JsonOption = False,
) -> None:
    """Who saw the customer's contact details, dossier or payloads: when, who, via, what, why."""
    launch(lambda env: show_who_saw(env, account), json_output=json_output)


async def show_who_saw(env: CommandEnv, account: str) -> int:
    from operations import access

    account_no = account.strip().removeprefix("case-")
    reads = await access.who_saw(env.database(), account_no)
    if env.json_output:
        document = [
            {
                "at": r.at,
                "person_id": r.person_id,
                "via": r.via,
                "what": r.what,
                "reason": masked(r.reason),
            }
            for r in reads
        ]
        return env.print_json({"account_no": account_no, "reads": document})
    if not reads:
        env.say(f"nobody has looked at the personal data of account {account_no}")
        return EXIT_OK
    rows = [(at_minute(r.at), r.person_id, r.via, r.what, masked(r.reason)) for r in reads]
    env.table(("at", "who", "via", "what", "why"), rows, title=f"who saw account {account_no}")
    return EXIT_OK
