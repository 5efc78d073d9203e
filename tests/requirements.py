"""What a run requires. `COLLECTIONS_TEST_REQUIRE=browser,postgresql` (CI sets it) turns the
skip of a test whose piece is missing (no Chromium, no PostgreSQL) into a failure, so a CI run
can never pass while quietly leaving out a kind of test."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

KINDS = ("browser", "postgresql")


def required(kind: str) -> bool:
    wanted = os.environ.get("COLLECTIONS_TEST_REQUIRE", "")
    return kind in {k.strip() for k in wanted.split(",")}


def unavailable(kind: str, why: str, *, module: bool = False) -> NoReturn:
    """Skips, or fails when this run requires `kind`."""
    if required(kind):
        pytest.fail(f"{why} (this run requires {kind} tests)", pytrace=False)
    pytest.skip(why, allow_module_level=module)


def kind_of_nodeid(nodeid: str) -> str:
    """The kind a test is counted under in the run's summary."""
    path = nodeid.split("::")[0]
    if "[postgresql" in nodeid or "-postgresql" in nodeid:
        return "postgresql"
    for folder in ("browser", "integration", "workflows", "fuzz"):
        if path.startswith(f"tests/{folder}/"):
            return folder
    return "unit"
