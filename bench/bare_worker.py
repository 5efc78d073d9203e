"""The bare engine's worker process: `python -m bench.bare_worker ADDRESS QUEUE COUNTER_FILE`.

A default `Worker` hosting the bare workflows; every 0.1 s it writes how many no-op reminders
have run to COUNTER_FILE, which is how a bench sees a bare "first contact" happen.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Worker

from bench.bare import BareCase, BareEmpty, Reminders


def _write(counter: Path, value: int) -> None:
    scratch = counter.with_suffix(".tmp")
    scratch.write_text(str(value))
    scratch.replace(counter)


async def serve(address: str, queue: str, counter: Path) -> None:
    client = await Client.connect(address)
    reminders = Reminders()
    worker = Worker(
        client, task_queue=queue, workflows=[BareEmpty, BareCase], activities=[reminders.remind]
    )
    task = asyncio.current_task()
    assert task is not None
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, task.cancel)
    async with worker:
        written = -1
        while True:
            if reminders.done != written:
                written = reminders.done
                _write(counter, written)
            await asyncio.sleep(0.1)


def main() -> None:
    address, queue, counter = sys.argv[1:4]
    with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
        asyncio.run(serve(address, queue, Path(counter)))
    sys.stdout.flush()
    os._exit(0)  # a process holding a Temporal client can abort at interpreter exit


if __name__ == "__main__":
    main()
