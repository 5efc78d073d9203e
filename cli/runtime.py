"""How a long-running command starts and leaves: cancelled by SIGINT or SIGTERM, and out
through `os._exit`, because a process holding a Temporal client can abort at interpreter exit."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import traceback
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

T = TypeVar("T")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_until_signalled(main: Coroutine[Any, Any, T]) -> T | None:
    """Runs `main`; SIGINT or SIGTERM cancels it, and then the answer is None."""
    return asyncio.run(_cancel_on_signal(main))


async def _cancel_on_signal(main: Coroutine[Any, Any, T]) -> T | None:
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, task.cancel)
    try:
        return await main
    except asyncio.CancelledError:
        return None


def leave(code: int) -> NoReturn:
    """Flushes what is buffered, then exits without the interpreter's teardown."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run_and_leave(main: Coroutine[Any, Any, int | None]) -> NoReturn:
    """Runs `main` until it ends or a signal cancels it, then leaves with its exit code:
    its answer, 0 when it answers None or is cancelled, 1 when it raises."""
    try:
        code = run_until_signalled(main) or 0
    except Exception:
        traceback.print_exc()
        code = 1
    leave(code)
