"""The Alembic migrations build the schema the tables declare, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect

from readmodel.engine import alembic_config, migrate, sync_url
from readmodel.tables import metadata
from tests.conftest_db import sqlite_url

Schema = dict[str, dict[str, Any]]


def _engine(url: str) -> Engine:
    return create_engine(sync_url(url))


def _type_name(type_: Any) -> str:
    """The generic type (String(3), BigInteger, DateTime ...), as both dialects reflect it.
    SQLite does not keep DateTime's timezone flag, so only the class is compared."""
    generic = type_.as_generic()
    length = getattr(generic, "length", None)
    return f"{type(generic).__name__}({length})" if length else type(generic).__name__


def _schema(url: str) -> Schema:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            inspector = inspect(conn)
            return {
                table: {
                    "columns": [
                        (c["name"], _type_name(c["type"]), c["nullable"])
                        for c in inspector.get_columns(table)
                    ],
                    "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
                    "unique": sorted(
                        (u["name"], tuple(u["column_names"]))
                        for u in inspector.get_unique_constraints(table)
                    ),
                    # PostgreSQL lists the index behind each unique constraint; SQLite does not.
                    "indexes": sorted(
                        (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                        for i in inspector.get_indexes(table)
                        if not i.get("duplicates_constraint")
                    ),
                }
                for table in sorted(inspector.get_table_names())
            }
    finally:
        engine.dispose()


def _drift(url: str) -> list[Any]:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_migrations_create_every_table(database_url: str) -> None:
    assert set(_schema(database_url)) == set(metadata.tables) | {"alembic_version"}


def test_migrated_schema_matches_the_tables(database_url: str) -> None:
    assert _drift(database_url) == []


def test_sqlite_and_postgresql_get_the_same_schema(tmp_path: Path, postgres_url: str) -> None:
    lite = sqlite_url(tmp_path / "collections.db")
    migrate(lite)

    on_sqlite, on_postgres = _schema(lite), _schema(postgres_url)

    assert on_sqlite == on_postgres
    assert on_sqlite["payments"]["unique"] == [
        ("uq_payments_account_no_payment_ref", ("account_no", "payment_ref"))
    ]
    assert ("ix_contact_attempts_provider_id", ("provider_id",), False) in on_sqlite[
        "contact_attempts"
    ]["indexes"]


def test_migrate_twice_changes_nothing(database_url: str) -> None:
    before = _schema(database_url)

    migrate(database_url)

    assert _schema(database_url) == before


def test_downgrade_then_upgrade_round_trips(database_url: str) -> None:
    before = _schema(database_url)

    command.downgrade(alembic_config(database_url), "base")
    assert set(_schema(database_url)) == {"alembic_version"}
    migrate(database_url)

    assert _schema(database_url) == before


def test_migrate_creates_the_sqlite_directory(tmp_path: Path) -> None:
    path = tmp_path / "var" / "nested" / "collections.db"

    migrate(sqlite_url(path))

    assert path.exists()
    assert _drift(sqlite_url(path)) == []


def test_migrate_leaves_a_sqlite_file_in_wal_mode(tmp_path: Path) -> None:
    """The worker and the API open their connections after `migrate`: had they to switch a fresh
    file to WAL themselves, some would fail at once with "database is locked" (CI, 2026-12-05)."""
    path = tmp_path / "collections.db"

    migrate(sqlite_url(path))

    with closing(sqlite3.connect(path)) as bare:  # no pragma of ours on this connection
        assert bare.execute("PRAGMA journal_mode").fetchone() == ("wal",)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite+aiosqlite:///var/x.db", "sqlite:///var/x.db"),
        ("postgresql+psycopg://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgresql+asyncpg://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
    ],
)
def test_alembic_runs_on_a_synchronous_driver(url: str, expected: str) -> None:
    assert sync_url(url).render_as_string() == expected
