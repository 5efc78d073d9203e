"""The test people (`tests.staffing`) in the read model the API and the console sign them in
from, for the tests that call the app in-process.

argon2 makes seeding take seconds, so the people are seeded once per session, into a copy of
the migrated template, and each test's database is a copy of that: every copy knows the same
people, passwords and tokens, and `as_role(role)` is the header of that role's person whatever
app a test calls. A test asks for a fixture that copies it (`sqlite_db`, or one built on
`people`) before it calls `as_role`.

Besides one person per role (`tests.staffing.PEOPLE`) there is a colleague of the collector,
the supervisor and the legal officer (`COLLEAGUES`): a second supervisor approves what the
first asked (writing off, settling ...), a second collector finds a task locked to the first.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from operations.roles import Role
from readmodel.engine import Database
from tests.conftest_db import sqlite_url
from tests.staffing import PASSWORD, PEOPLE, Staffed, add_person, seed_staff

__all__ = [
    "COLLEAGUES",
    "PASSWORD",
    "PEOPLE",
    "People",
    "as_colleague",
    "as_role",
    "people",
    "sqlite_db",
]

COLLEAGUES: dict[Role, str] = {
    Role.OPERATIONS: "ops.oli",
    Role.SUPERVISOR: "sup.sue",
    Role.LEGAL: "legal.liu",
}


@dataclass(frozen=True)
class People:
    template: Path  # a migrated SQLite file with the people in it
    staffed: Staffed  # a token per role's person
    colleagues: dict[Role, str]  # a token per colleague (`COLLEAGUES`)

    def copy(self, to: Path) -> Database:
        """A database of its own at `to`, knowing the people."""
        to.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.template, to)
        return Database(sqlite_url(to))


_seeded: list[People] = []  # this session's, once `people` has made it


@pytest.fixture(scope="session")
async def people(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> People:
    """The session's people. Each module that imports this fixture holds a definition of its
    own, which pytest sets up once per session each: the first seeds, the others find it."""
    if _seeded:
        return _seeded[0]
    path = tmp_path_factory.mktemp("people") / "collections.db"
    shutil.copyfile(sqlite_template, path)
    db = Database(sqlite_url(path))
    try:
        staffed = await seed_staff(db)
        colleagues = {
            role: await add_person(db, person, [role]) for role, person in COLLEAGUES.items()
        }
    finally:
        await db.dispose()  # the last connection gone, SQLite folds its WAL into the file
    assert not path.with_name(path.name + "-wal").exists(), "the template is not whole"
    _seeded[:] = [People(path, staffed, colleagues)]
    return _seeded[0]


def _people() -> People:
    if not _seeded:
        raise RuntimeError("no test people yet: ask for a fixture built on `people`")
    return _seeded[0]


def as_role(role: Role) -> dict[str, str]:
    """The API token header of `role`'s person (`tests.staffing.PEOPLE`)."""
    return _people().staffed.headers(role)


def as_colleague(role: Role) -> dict[str, str]:
    """The API token header of `role`'s second person (`COLLEAGUES`)."""
    return {"X-API-Key": _people().colleagues[role]}


@pytest.fixture
async def sqlite_db(people: People, tmp_path: Path) -> AsyncIterator[Database]:
    """`tests.workflows.harness.sqlite_db` with the people in it: a module that imports this
    one instead gives its harness's workers and its app the same database."""
    db = await asyncio.to_thread(people.copy, tmp_path / "collections.db")
    yield db
    await db.dispose()
