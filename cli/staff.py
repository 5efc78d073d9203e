"""`collections staff` and `collections token`: the staff directory and API tokens, from the
host's command line (which holds the system's authority: nobody signs in here).

- `staff add ID --name N --role R [--role ...] [--team T] [--language L ...] [--service]`: a
  person gets a one-time password, printed once, to be changed at their first sign-in; a
  service account (`--service`) has none and signs in by token only.
- `staff work ID [--team T] [--language L ...] [--product P ... | --every-product]
  [--capacity N]`: what the allocator reads of them (`cli.staff_work`).
- `staff list [--all]`; `staff disable ID` (their sessions end, their tokens are revoked) and
  `staff enable ID`; `staff roles ID --role R [--role ...]` (replaces them); `staff
  reset-password ID` (a new one-time password, printed once).
- `token new ID --name N [--days 90]` (the token printed once), `token list [ID]`, `token
  revoke TOKEN_ID`.
Roles: collector (the operations role), supervisor, risk, legal, engineer, admin. Passwords and
tokens are kept as hashes only: no command shows them again.

Exit codes: 0 done; 1 refused (a service account has no password, a disabled person gets no
token); 2 a bad id, name, role or lifetime; 3 no such person, or no such live token; 4 the id
is already in the directory. See `cli.actions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.actions import (
    EXIT_CONFLICT,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    CommandEnv,
    CommandError,
    JsonOption,
    at_minute,
    launch,
)
from cli.staff_work import CapacityOpt, EveryProductOpt, LanguagesOpt, ProductsOpt, TeamOpt

if TYPE_CHECKING:
    from readmodel.tables import ApiTokenRow, StaffRow

staff_app = typer.Typer(
    name="staff", help="The staff directory: people, service accounts, roles.", no_args_is_help=True
)
token_app = typer.Typer(
    name="token", help="API tokens of people and service accounts.", no_args_is_help=True
)

PersonArg = Annotated[str, typer.Argument(metavar="PERSON_ID", help="The staff id, e.g. ann.li.")]
RolesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--role",
        help="collector, supervisor, risk, legal, engineer or admin; repeat for more.",
        show_default=False,
    ),
]


async def _existing(env: CommandEnv, person_id: str) -> StaffRow:
    from operations import staff

    row = await staff.find(env.database(), person_id)
    if row is None:
        raise CommandError(EXIT_NOT_FOUND, f"no {person_id} in the directory")
    return row


def _split(text: str) -> list[str]:
    return [part for part in text.split(",") if part]


# --- staff -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewStaff:
    """What `staff add`'s flags say."""

    person_id: str
    name: str
    roles: Sequence[str]
    team: str = ""
    languages: Sequence[str] = ()
    service: bool = False


@staff_app.command("add")
def add(
    person_id: PersonArg,
    name: Annotated[str, typer.Option(help="The display name.")],
    role: RolesOpt = None,
    team: Annotated[str, typer.Option(help="The team, e.g. shanghai-early.")] = "",
    language: Annotated[
        list[str] | None,
        typer.Option(help="A language they work in, e.g. zh-CN; repeat for more."),
    ] = None,
    service: Annotated[
        bool, typer.Option("--service", help="A service account: no password, tokens only.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Add a person (their one-time password is printed once) or a service account."""
    new = NewStaff(person_id, name, role or [], team, language or [], service)
    launch(lambda env: add_staff(env, new), json_output=json_output)


async def add_staff(env: CommandEnv, new: NewStaff) -> int:
    from operations import staff

    db = env.database()
    if await staff.find(db, new.person_id) is not None:
        raise CommandError(EXIT_CONFLICT, f"{new.person_id} is already in the directory")
    kind = "service" if new.service else "person"
    try:
        password = await staff.add(
            db,
            new.person_id,
            name=new.name,
            roles=new.roles,
            team=new.team,
            languages=new.languages,
            kind=kind,
        )
    except staff.StaffError as error:
        raise CommandError(EXIT_USAGE, str(error)) from None
    if env.json_output:
        document = {"person_id": new.person_id, "kind": kind, "one_time_password": password}
        return env.print_json(document)
    if password:
        env.say(f"added {new.person_id}")
        env.say(
            f"one-time password for {new.person_id}: {password} "
            "(to be changed at first sign-in; it is not shown again)"
        )
    else:
        env.say(
            f"added the service account {new.person_id}: it signs in by token "
            f"(collections token new {new.person_id} --name ...)"
        )
    return EXIT_OK


@staff_app.command("list")
def list_(
    include_inactive: Annotated[
        bool, typer.Option("--all", help="Disabled people and accounts too.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """The directory: id, name, kind, roles, team, languages, products, capacity, active."""
    launch(lambda env: list_staff(env, include_inactive=include_inactive), json_output=json_output)


def listed(row: StaffRow) -> dict[str, Any]:
    """A person as listed: never their password's hash."""
    return {
        "person_id": row.person_id,
        "name": row.display_name,
        "kind": row.kind,
        "roles": _split(row.roles),
        "team": row.team,
        "languages": _split(row.languages),
        "products": _split(row.products),
        "capacity": row.capacity,
        "active": row.active,
    }


async def list_staff(env: CommandEnv, *, include_inactive: bool = False) -> int:
    from operations import staff

    people = [
        listed(row)
        for row in await staff.directory(env.database(), include_inactive=include_inactive)
    ]
    if env.json_output:
        return env.print_json({"staff": people})
    if not people:
        env.say("nobody in the directory" + ("" if include_inactive else " is active"))
        return EXIT_OK
    rows = [
        (
            p["person_id"],
            p["name"],
            p["kind"],
            ", ".join(p["roles"]),
            p["team"] or "-",
            ", ".join(p["languages"]) or "-",
            ", ".join(p["products"]) or "all",
            str(p["capacity"]),
            "yes" if p["active"] else "no",
        )
        for p in people
    ]
    columns = ("id", "name", "kind", "roles", "team", "languages", "products", "cap", "active")
    env.table(columns, rows)
    return EXIT_OK


@staff_app.command("work")
def work(
    person_id: PersonArg,
    team: TeamOpt = None,
    language: LanguagesOpt = None,
    product: ProductsOpt = None,
    every_product: EveryProductOpt = False,
    capacity: CapacityOpt = None,
    json_output: JsonOption = False,
) -> None:
    """Set what a person works: team, languages, products, capacity (the allocator's)."""
    from cli.staff_work import WorkChange, set_work

    change = WorkChange(team, language, [] if every_product else product, capacity)
    launch(lambda env: set_work(env, person_id, change), json_output=json_output)


@staff_app.command("disable")
def disable(person_id: PersonArg, json_output: JsonOption = False) -> None:
    """Disable a person or service account: their sessions end and their tokens are revoked."""
    launch(lambda env: set_active(env, person_id, active=False), json_output=json_output)


@staff_app.command("enable")
def enable(person_id: PersonArg, json_output: JsonOption = False) -> None:
    """Enable them again (tokens revoked when they were disabled stay revoked)."""
    launch(lambda env: set_active(env, person_id, active=True), json_output=json_output)


async def set_active(env: CommandEnv, person_id: str, *, active: bool) -> int:
    from operations import staff

    await _existing(env, person_id)
    await staff.set_active(env.database(), person_id, active)
    message = (
        f"enabled {person_id}; tokens revoked while disabled stay revoked"
        if active
        else f"disabled {person_id}: their sessions have ended and their API tokens are revoked"
    )
    return _done(env, {"person_id": person_id, "active": active}, message)


@staff_app.command("roles")
def roles(person_id: PersonArg, role: RolesOpt = None, json_output: JsonOption = False) -> None:
    """Replace a person's roles; their sessions end, so the new roles apply at once."""
    launch(lambda env: replace_roles(env, person_id, role or []), json_output=json_output)


async def replace_roles(env: CommandEnv, person_id: str, names: Sequence[str]) -> int:
    from operations import staff

    await _existing(env, person_id)
    try:
        chosen = sorted(await staff.set_roles(env.database(), person_id, names))
    except staff.StaffError as error:
        raise CommandError(EXIT_USAGE, str(error)) from None
    message = f"{person_id}'s roles are now {', '.join(chosen)}; their sessions have ended"
    return _done(env, {"person_id": person_id, "roles": chosen}, message)


@staff_app.command("reset-password")
def reset_password(person_id: PersonArg, json_output: JsonOption = False) -> None:
    """A new one-time password, printed once; the person's sessions end."""
    launch(lambda env: new_password(env, person_id), json_output=json_output)


async def new_password(env: CommandEnv, person_id: str) -> int:
    from operations import staff

    await _existing(env, person_id)
    try:
        password = await staff.reset_password(env.database(), person_id)
    except staff.StaffError as error:
        raise CommandError(EXIT_REFUSED, str(error)) from None
    if env.json_output:
        return env.print_json({"person_id": person_id, "one_time_password": password})
    env.say(
        f"one-time password for {person_id}: {password} "
        "(to be changed at first sign-in; it is not shown again)"
    )
    return EXIT_OK


def _done(env: CommandEnv, document: dict[str, Any], message: str) -> int:
    if env.json_output:
        return env.print_json({**document, "message": message})
    env.say(message)
    return EXIT_OK


# --- tokens ----------------------------------------------------------------------------------


@token_app.command("new")
def new(
    person_id: PersonArg,
    name: Annotated[str, typer.Option(help="What it is for, e.g. 'nightly intake'.")],
    days: Annotated[int, typer.Option(help="How long it lives: 1 to 366 days.")] = 90,
    json_output: JsonOption = False,
) -> None:
    """A new API token for a person or service account, printed once."""
    launch(lambda env: new_token(env, person_id, name, days), json_output=json_output)


async def new_token(env: CommandEnv, person_id: str, name: str, days: int = 90) -> int:
    from operations import signin

    if not (await _existing(env, person_id)).active:
        raise CommandError(EXIT_REFUSED, f"{person_id} is disabled: enable them first")
    try:
        issued = await signin.issue_token(env.database(), person_id, name, days=days)
    except ValueError as error:
        raise CommandError(EXIT_USAGE, str(error)) from None
    if env.json_output:
        document = {
            "token_id": issued.token_id,
            "person_id": person_id,
            "name": name.strip(),
            "expires_at": issued.expires_at,
            "token": issued.token,
        }
        return env.print_json(document)
    env.say(f"token {issued.token_id} for {person_id}, expires {at_minute(issued.expires_at)}:")
    env.say(issued.token)
    env.say("it is shown once: only its hash is kept")
    return EXIT_OK


@token_app.command("list")
def list_tokens(
    person_id: Annotated[
        str | None, typer.Argument(metavar="[PERSON_ID]", help="Only this person's tokens.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Tokens, oldest first: id, owner, name, created, expires, revoked, last used."""
    launch(lambda env: show_tokens(env, person_id), json_output=json_output)


def token_view(row: ApiTokenRow) -> dict[str, Any]:
    """A token as listed: never its secret, nor the secret's hash."""
    return {
        "token_id": row.token_id,
        "person_id": row.person_id,
        "name": row.name,
        "created_at": row.created_at,
        "expires_at": row.expires_at,
        "revoked_at": row.revoked_at,
        "last_used_at": row.last_used_at,
    }


async def show_tokens(env: CommandEnv, person_id: str | None = None) -> int:
    from operations import signin

    rows = await signin.tokens_of(env.database(), person_id)
    if env.json_output:
        return env.print_json({"tokens": [token_view(row) for row in rows]})
    if not rows:
        env.say(f"no tokens of {person_id}" if person_id else "no tokens")
        return EXIT_OK
    columns = ("id", "owner", "name", "created", "expires", "revoked", "last used")
    table = [
        (
            row.token_id,
            row.person_id,
            row.name,
            at_minute(row.created_at),
            at_minute(row.expires_at),
            at_minute(row.revoked_at),
            at_minute(row.last_used_at),
        )
        for row in rows
    ]
    env.table(columns, table)
    return EXIT_OK


@token_app.command("revoke")
def revoke(
    token_id: Annotated[str, typer.Argument(metavar="TOKEN_ID", help="As `token list` shows it.")],
    json_output: JsonOption = False,
) -> None:
    """Revoke a token: it stops working at once."""
    launch(lambda env: revoke_token(env, token_id), json_output=json_output)


async def revoke_token(env: CommandEnv, token_id: str) -> int:
    from operations import signin

    if not await signin.revoke_token(env.database(), token_id):
        raise CommandError(EXIT_NOT_FOUND, f"no live token {token_id} (unknown, or revoked)")
    return _done(env, {"token_id": token_id, "revoked": True}, f"revoked token {token_id}")
