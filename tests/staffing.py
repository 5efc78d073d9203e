"""Named staff for tests: one person per role in the directory, each with an API token and a
known password, made through the same functions `collections staff` and the console use."""

from __future__ import annotations

from dataclasses import dataclass

from operations import signin, staff
from operations.roles import Role
from readmodel.engine import Database

PASSWORD = "correct horse battery"  # every test person's own password, once changed
# One person per role: `ops.ann` is a collector, `sup.sam` a supervisor ...
PEOPLE: dict[Role, str] = {
    Role.OPERATIONS: "ops.ann",
    Role.SUPERVISOR: "sup.sam",
    Role.RISK: "risk.rui",
    Role.LEGAL: "legal.lee",
    Role.ENGINEER: "eng.eve",
    Role.ADMIN: "adm.ada",
}


@dataclass(frozen=True)
class Staffed:
    tokens: dict[Role, str]  # a token per role's person

    def headers(self, role: Role) -> dict[str, str]:
        return {"X-API-Key": self.tokens[role]}


async def add_person(
    db: Database, person_id: str, roles: list[str], *, password: str = PASSWORD
) -> str:
    """A person with their own password set (the one-time one changed, as at a first sign-in);
    returns an API token of theirs."""
    one_time = await staff.add(db, person_id, name=person_id.title(), roles=roles)
    await staff.change_password(db, person_id, one_time, password)
    return (await signin.issue_token(db, person_id, "tests")).token


async def seed_staff(db: Database) -> Staffed:
    """The directory's test people (one per role), for a database that has none yet."""
    tokens = {role: await add_person(db, person, [role]) for role, person in PEOPLE.items()}
    return Staffed(tokens)
