"""One copy of each strategy in a worker's memory, however many cached cases follow it.

Every case decodes its assessment, and with it the whole strategy (about 7 KiB of Python
objects for the default policy), from its history: its input, or its assessment's marker. A
thousand cached cases on one policy held a thousand equal copies, and the SDK keeps each run's
decoded input for the run's life (`_WorkflowInstanceImpl._workflow_input`), whatever the case
itself holds. So the copy is shared where it is decoded: an assessment's strategy is a
`SharedStrategy`, which the data converter (pydantic) replaces, once decoded, with the equal
copy a worker already holds. A case keeps the strategy it was assessed with and never changes
it (frozen, and no rule writes into its ladders), so an equal copy that another case holds
decides exactly as its own would.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from models.strategy import Strategy

# Bounded: a worker meets a handful of policies and their versions. Past the bound a strategy
# is used as decoded, unshared. Workflow tasks run on several threads: appending to a list and
# reading it are safe under the GIL, and a race at worst keeps two equal copies.
MAX_KEPT = 64
_kept: list[Strategy] = []


def shared(strategy: Strategy) -> Strategy:
    """The kept strategy equal to `strategy` (one compare of the names is enough to pass an
    unequal one), else `strategy`, kept for the next case while there is room."""
    for kept in _kept:
        if kept.name == strategy.name and kept.version == strategy.version and kept == strategy:
            return kept
    if len(_kept) < MAX_KEPT:
        _kept.append(strategy)
    return strategy


# A strategy as the data converter decodes it: the worker's one copy of an equal strategy.
SharedStrategy = Annotated[Strategy, AfterValidator(shared)]
