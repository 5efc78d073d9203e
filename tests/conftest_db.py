"""Database fixtures; `tests/conftest.py` imports them.

- `database_url`: the URL of a migrated, empty database. Parametrized: once on SQLite (a file
  under the test's tmp dir) and once on PostgreSQL, which is skipped unless TEST_DATABASE_URL
  names a server (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test).
- `database`: a `Database` on `database_url`, disposed after the test.
- `postgres_url`: the session's own PostgreSQL database, migrated; see below.

On PostgreSQL the session creates a database of its own (`test_<random>`) on that server and
drops it at the end, so leftovers of an earlier run never meet a test; each test's rows are
truncated after it. SQLite tests copy a file migrated once per session.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import make_url

from readmodel.engine import Database, migrate
from readmodel.tables import metadata
from tests.requirements import unavailable

DB_KINDS = ("sqlite", "postgresql")


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as psycopg itself takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session, dropped at its end."""
    server = os.environ.get("TEST_DATABASE_URL", "")
    if not server:
        unavailable("postgresql", "TEST_DATABASE_URL is not set: PostgreSQL tests need a server")
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(server), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url)
        yield url
    finally:
        with psycopg.connect(libpq_url(server), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("db-template") / "collections.db"
    migrate(sqlite_url(path))
    return path


def _truncate_all(url: str) -> None:
    tables = sql.SQL(", ").join(sql.Identifier(t.name) for t in metadata.sorted_tables)
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY").format(tables))


@pytest.fixture(params=DB_KINDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database with no rows: SQLite, and PostgreSQL when TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        path = tmp_path / "var" / "collections.db"
        path.parent.mkdir()
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield sqlite_url(path)
        return
    url: str = request.getfixturevalue("postgres_url")
    try:
        yield url
    finally:
        _truncate_all(url)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    try:
        yield db
    finally:
        await db.dispose()
