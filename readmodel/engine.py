"""The database handle (async SQLAlchemy engine and sessions) and the schema migration entry.

One `Database` per process, built from a URL such as `sqlite+aiosqlite:///var/collections.db`
or `postgresql+psycopg://user@host:5432/collections`. Alembic owns the schema: call `migrate`
once at start-up, before the first session.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, create_engine, event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel.ext.asyncio.session import AsyncSession

from config.keys import data_keys
from config.settings import Settings
from readmodel import sealing

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# A worker and the API share one SQLite file: WAL lets readers run beside the writer, and the
# busy timeout makes a writer wait for the lock instead of failing at once. WAL is the file's
# own setting, made once by `migrate`; here it only holds for a file migrated before that.
_SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout=15000",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
)

# Alembic runs synchronously; these async drivers have a sync twin it can use.
_SYNC_DRIVERS = {
    "sqlite+aiosqlite": "sqlite",
    "postgresql+asyncpg": "postgresql+psycopg",
    "postgresql+psycopg_async": "postgresql+psycopg",
}


class Database:
    """An async engine and a session factory; `session()` is one transaction."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = make_url(url)
        _ensure_sqlite_dir(self.url)
        self.engine: AsyncEngine = create_async_engine(
            self.url, echo=echo, pool_pre_ping=self.dialect == "postgresql"
        )
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_on_connect)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.url.get_backend_name()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """Commits when the block ends normally, rolls back when it raises."""
        async with self._sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in _SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _ensure_sqlite_dir(url: URL) -> None:
    if url.get_backend_name() != "sqlite" or url.query.get("uri"):
        return
    if url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def sync_url(url: str | URL) -> URL:
    """The same database behind a synchronous driver, for Alembic and inspection."""
    parsed = make_url(url)
    driver = _SYNC_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def alembic_config(url: str | URL) -> Config:
    """A programmatic Alembic config for `url`; no ini file, no logging set-up."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    # Passed as an attribute, not an option: ini interpolation would mangle a '%' in a password.
    config.attributes["url"] = sync_url(url)
    return config


def migrate(url: str | URL, revision: str = "head") -> None:
    """Upgrades the database at `url` to `revision`. Synchronous: not for the event loop."""
    _ensure_sqlite_dir(make_url(url))
    command.upgrade(alembic_config(url), revision)
    _use_wal(make_url(url))


def _use_wal(url: URL) -> None:
    """Puts a SQLite file in WAL mode from this one connection, before the worker's and the
    API's open. Left to them, several connections switch a fresh file at once and some fail with
    "database is locked": the busy timeout does not cover the switch."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    engine = create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    finally:
        engine.dispose()


async def migrate_async(url: str | URL, revision: str = "head") -> None:
    """`migrate` in a worker thread, for callers already inside an event loop."""
    await asyncio.to_thread(migrate, url, revision)


def open_database(settings: Settings) -> Database:
    """The process's database, its data keys configured for sealing personal fields (from
    `DATA_KEYS`, else the payload keys): without keys it still opens, and the first write of
    personal data fails closed (`readmodel.sealing.MissingDataKeys`)."""
    keys = data_keys(settings)
    sealing.configure(sealing.DataKeys(keys) if keys else None)
    return Database(settings.database_url)
