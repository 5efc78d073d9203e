"""One copy of each strategy in a worker's memory, however many cached cases follow it.

Every case decodes its assessment, and with it the whole strategy (about 7 KiB of Python
objects for the default policy), from its own history; a thousand cached cases on one policy
held a thousand equal copies. A case keeps the strategy it was assessed with and never changes
it (frozen, and no rule writes into its ladders), so an equal copy that another case holds
decides exactly as its own would. Under the checked sandbox (tests, replays) each run imports
this module afresh and shares nothing, which changes nothing either.

What it saves is the assessment a run opens with, which most cached cases are. A continued run
saves nothing: the SDK keeps every run's decoded input for the run's life
(`_WorkflowInstanceImpl._workflow_input`), so the carried state's own copy stays in memory
whatever the shell holds. For the same reason no strategy should travel in a case's input.
"""

from __future__ import annotations

from dataclasses import replace

from models.contracts import Assessment, CaseState
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


def sharing(assessment: Assessment) -> Assessment:
    """`assessment` holding the shared copy of its strategy."""
    strategy = shared(assessment.strategy)
    return assessment if strategy is assessment.strategy else replace(assessment, strategy=strategy)


def sharing_state(state: CaseState | None) -> CaseState | None:
    """A carried state (continue-as-new) holding the shared copy of its strategy."""
    if state is None:
        return None
    assessment = sharing(state.assessment)
    return state if assessment is state.assessment else replace(state, assessment=assessment)
