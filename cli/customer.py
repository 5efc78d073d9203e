"""`collections customer export|erase CUSTOMER_REF --reason ...`: a customer's personal data on
request (`operations.customers`), for a supervisor or a legal officer of the staff directory:
the command acts as COLLECTIONS_ACTOR, or the login name.

- `export` prints everything held about the customer as one JSON document (or writes it to
  `-o FILE`, readable by its owner only), after recording the read in the access log.
- `erase` erases the personal data of the customer's closed cases now; refused, saying why,
  while a case of theirs is open or in legal proceedings.

Exit codes: 0 done; 1 not a supervisor or legal officer, or the erasure refused; 2 no reason
given, or the database unreachable; 3 no such customer. See `cli.actions`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.actions import (
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    CommandEnv,
    CommandError,
    JsonOption,
    launch,
)

if TYPE_CHECKING:
    from operations.staff import Person

customer_app = typer.Typer(
    name="customer",
    help="A customer's personal data on request: export, erasure.",
    no_args_is_help=True,
)

CustomerArg = Annotated[
    str, typer.Argument(metavar="CUSTOMER_REF", help="The customer's reference, e.g. CUST000123.")
]
ReasonOpt = Annotated[
    str, typer.Option("--reason", help="Why (recorded in the access log).", show_default=False)
]
VIA = "cli"


@customer_app.command("export")
def export(
    customer_ref: CustomerArg,
    reason: ReasonOpt,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the JSON to this file instead of stdout."),
    ] = None,
) -> None:
    """Everything held about one customer, as JSON (recorded in the access log)."""
    launch(lambda env: export_customer(env, customer_ref, reason, output), json_output=False)


@customer_app.command("erase")
def erase(customer_ref: CustomerArg, reason: ReasonOpt, json_output: JsonOption = False) -> None:
    """Erase the customer's personal data, where the rules allow (no open case, none in legal)."""
    launch(lambda env: erase_customer(env, customer_ref, reason), json_output=json_output)


async def _person(env: CommandEnv, what: str) -> Person:
    from operations import customers, staff

    actor = env.actor()
    person = await staff.active_person(env.database(), actor)
    if person is None:
        raise CommandError(
            EXIT_REFUSED,
            f"{customers.needs(what)}: {actor} is not an active person there "
            "(COLLECTIONS_ACTOR says who you are)",
        )
    return person


async def export_customer(
    env: CommandEnv, customer_ref: str, reason: str, output: Path | None = None
) -> int:
    from operations import access, customers

    person = await _person(env, "export")
    try:
        document = await customers.export(env.database(), customer_ref, person, VIA, reason)
    except customers.NotAllowed as error:
        raise CommandError(EXIT_REFUSED, str(error)) from None
    except access.ReasonRequired as error:
        raise CommandError(EXIT_USAGE, str(error)) from None
    if document is None:
        raise CommandError(EXIT_NOT_FOUND, f"no customer {customer_ref}")
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if output is None:
        env.out.print(text, markup=False, highlight=False, emoji=False, soft_wrap=True)
        return EXIT_OK
    _write_private(output, text + "\n")
    env.say(
        f"wrote everything held about customer {customer_ref} "
        f"({len(document['cases'])} case(s)) to {output}"
    )
    return EXIT_OK


async def erase_customer(env: CommandEnv, customer_ref: str, reason: str) -> int:
    from operations import access, customers

    person = await _person(env, "erasure")
    try:
        answer = await customers.erase(env.database(), customer_ref, person, VIA, reason)
    except customers.NotAllowed as error:
        raise CommandError(EXIT_REFUSED, str(error)) from None
    except access.ReasonRequired as error:
        raise CommandError(EXIT_USAGE, str(error)) from None
    if answer is None:
        raise CommandError(EXIT_NOT_FOUND, f"no customer {customer_ref}")
    if not answer.done:
        raise CommandError(EXIT_REFUSED, f"refused: {answer.message}")
    if env.json_output:
        document = {"customer_ref": customer_ref, "cases": answer.cases, "erased": answer.erased}
        return env.print_json(document)
    env.say(answer.message)
    return EXIT_OK


def _write_private(path: Path, text: str) -> None:
    """The customer's data, readable by the file's owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        os.fchmod(file.fileno(), 0o600)  # an existing file keeps its mode otherwise
        file.write(text)
