"""`collections staff work ID [--team T] [--language L ...] [--product P ... | --every-product]
[--capacity N]`: what a person works, as the allocator reads it (`operations.allocation`).

Only what is given changes; `--language` and `--product` replace the lists. A person with no
products works every product; capacity is the most open tasks the allocator gives them (0 to
500; 0: none). The command itself is in `cli.staff`; its flags and its core are here.

Exit codes: 0 done; 2 a bad team, language, product or capacity; 3 no such person.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from cli.actions import EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, CommandEnv, CommandError

TeamOpt = Annotated[str | None, typer.Option(help="The team, e.g. shanghai-early.")]
LanguagesOpt = Annotated[
    list[str] | None, typer.Option("--language", help="e.g. zh-CN; repeat for more.")
]
ProductsOpt = Annotated[
    list[str] | None, typer.Option("--product", help="A product code, e.g. card; repeat.")
]
EveryProductOpt = Annotated[
    bool, typer.Option("--every-product", help="Works every product (no product codes).")
]
CapacityOpt = Annotated[
    int | None, typer.Option(help="The most open tasks the allocator gives them: 0 to 500.")
]


@dataclass(frozen=True)
class WorkChange:
    """What `staff work`'s flags say; None: unchanged."""

    team: str | None = None
    languages: list[str] | None = None
    products: list[str] | None = None
    capacity: int | None = None


async def set_work(env: CommandEnv, person_id: str, change: WorkChange) -> int:
    from cli.staff import listed
    from operations import staff

    db = env.database()
    if await staff.find(db, person_id) is None:
        raise CommandError(EXIT_NOT_FOUND, f"no {person_id} in the directory")
    try:
        row = await staff.set_work(
            db,
            person_id,
            team=change.team,
            languages=change.languages,
            products=change.products,
            capacity=change.capacity,
        )
    except staff.StaffError as error:
        raise CommandError(EXIT_USAGE, str(error)) from None
    shown = listed(row)
    if env.json_output:
        return env.print_json(shown)
    products = ", ".join(shown["products"]) or "every product"
    languages = ", ".join(shown["languages"]) or "no language yet"
    env.say(
        f"{person_id}: team {row.team or '-'}, {languages}, {products}, "
        f"up to {row.capacity} open tasks"
    )
    return EXIT_OK
