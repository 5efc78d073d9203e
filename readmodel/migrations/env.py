"""Alembic environment: runs the revisions in `versions/` against one database.

The URL comes from `config.attributes["url"]` (set by `readmodel.engine.alembic_config`), else from
the settings when the alembic CLI is used. An open connection in `config.attributes["connection"]`
is used as is. SQLite gets batch mode, so that later ALTERs work there as on PostgreSQL.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, create_engine, pool, text
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

from readmodel.tables import metadata

# Any constant shared by every migrating process: with it, two processes starting at once on
# PostgreSQL migrate one after the other instead of both creating the same tables.
_PG_MIGRATION_LOCK = 7_362_001


def _render_item(type_: str, obj: Any, _autogen: AutogenContext) -> str | Literal[False]:
    """Renders SQLModel's column types as plain SQLAlchemy ones, so revisions need no sqlmodel."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, AutoString):
        length = getattr(obj.impl, "length", None)
        return f"sa.String(length={length})" if length else "sa.String()"
    return False


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=metadata,
        compare_type=True,
        render_item=_render_item,
        **kwargs,
    )


def _url() -> Any:
    url = context.config.attributes.get("url")
    if url is None:
        from config.settings import load_settings
        from readmodel.engine import sync_url

        url = sync_url(load_settings().database_url)
    return url


def _run(connection: Connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
            )
        context.run_migrations()


def run_offline() -> None:
    url = _url()
    _configure(
        url=url,
        literal_binds=True,
        render_as_batch=url.get_backend_name() == "sqlite",
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
