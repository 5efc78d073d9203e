"""What the case's handlers and the department workflows share: the read-model activity
(`store`) and the refusal of an operator's input (`bounded`, `invalid`). Nothing here holds
state or does I/O of its own.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from models.contracts import Refusal, text_problem

# Store writes are local and quick; they retry until the database is back.
STORE_TIMEOUT = timedelta(seconds=30)
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)


async def store(
    activity: str, arg: object, *, local: bool = False, result_type: type | None = None
) -> Any:
    """A read-model activity, retried until the database answers. `local` runs it in the
    workflow task that asked for it: no server dispatch, no second workflow task."""
    run = workflow.execute_local_activity if local else workflow.execute_activity
    return await run(
        activity,
        arg,
        result_type=result_type,
        start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=STORE_RETRY,
    )


MAX_TEXT = 2_000  # characters in any one text an operator sends; payloads must stay small


def bounded(req: object) -> None:
    """Refuses an operator's input with a text too long to carry through history (a huge reason
    would fail the workflow task on every retry) or one no database takes (a NUL, a lone
    surrogate: the case's writes would fail on every retry). Either way, a poisoned case."""
    if not dataclasses.is_dataclass(req) or isinstance(req, type):
        return
    for f in dataclasses.fields(req):
        value = getattr(req, f.name)
        for text in value if isinstance(value, (tuple, list)) else (value,):
            if not isinstance(text, str):
                bounded(text)
            elif len(text) > MAX_TEXT:
                raise invalid(f"{f.name} is longer than {MAX_TEXT} characters")
            elif problem := text_problem(text):
                raise invalid(f"{f.name} {problem}")


def invalid(message: str) -> ApplicationError:
    """An operator's request that cannot be taken; the message says why."""
    return ApplicationError(message, type=Refusal.INVALID_ACTION, non_retryable=True)


def need_reason(text: str) -> None:
    if not text.strip():
        raise invalid("a reason is required")
