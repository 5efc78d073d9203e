"""How a long-running command starts and leaves: cancelled by SIGINT or SIGTERM (or, when it
winds down on its own, told to stop by the first and cancelled by the second), and out through
`os._exit`, because a process holding a Temporal client can abort at interpreter exit."""

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


def run_until_signalled(
    main: Coroutine[Any, Any, T], stop: asyncio.Event | None = None
) -> T | None:
    """Runs `main`; SIGINT or SIGTERM cancels it, and then the answer is None. Given `stop`,
    the first signal sets it instead (`main` then ends by itself) and a second one cancels."""
    return asyncio.run(_cancel_on_signal(main, stop))


async def _cancel_on_signal(main: Coroutine[Any, Any, T], stop: asyncio.Event | None) -> T | None:
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()

    def stop_or_cancel() -> None:
        if stop is None or stop.is_set():
            task.cancel()
        else:
            stop.set()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop_or_cancel)
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


def run_and_leave(
    main: Coroutine[Any, Any, int | None], stop: asyncio.Event | None = None
) -> NoReturn:
    """Runs `main` until it ends or a signal cancels it (see `run_until_signalled` for
    `stop`), then leaves with its exit code: its answer, 0 when it answers None or is
    cancelled, 1 when it raises."""
    try:
        code = run_until_signalled(main, stop) or 0
    except Exception:
        traceback.print_exc()
        code = 1
    leave(code)
