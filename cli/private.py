"""What the stack, the worker and the API write under `var/` (databases with customers' data,
logs, keys) is their owner's alone: 0700 for the folder, 0600 for every file."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import make_url

from config.settings import Settings


def keep_private(settings: Settings, *, create_var: bool = False) -> None:
    """From now on this process (and its children) creates files for its owner only; `var/`
    is made or closed to others when asked to (`up`) or when the SQLite database is in it."""
    os.umask(0o077)
    if create_var or sqlite_under(settings.database_url, settings.var_dir):
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        settings.var_dir.chmod(0o700)


def sqlite_under(database_url: str, folder: Path) -> bool:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return False
    return Path(url.database).expanduser().resolve().is_relative_to(folder.resolve())
