"""The changes made to the case workflow while cases were running, and the releases that gather
them under one marker.

A change is taken behind `workflow.patched(<change>)` so that a case started before it replays
its old commands (tests/histories/before-*). Each `patched` that answers yes records two
events in a new run (a marker and Temporal's own `TemporalChangeVersion` upsert): six changes
were twelve events, four of them before the first reminder. A release gathers the changes
made so far under one marker: a run that starts on a release asks `patched` once, for the
release, and takes every change it gathers without a marker of its own. A run recorded before
the release has no release marker: it is asked about each change, as it was then. A change
made after the newest release stays a plain `patched` until a newer release gathers it.

A run whose input names the newest release (`CaseInput.release`, which the starter and each
continue-as-new set) takes it without any marker: two events and a visibility write fewer per
run. That is safe while workers of two releases serve one queue, because the first question is
answered from what the history holds. A worker that does not know the named release (or only
ignores the field, as the release before this one does) records its own newest release's marker.
A replaying worker looks for the marker of each release other than the named one, and takes
the named release only when it finds none.

Adding a change: a constant here, `self._changes.taken(<change>)` where the code branches.
Cutting a release: a new first row of `RELEASES` naming every change so far (older releases
stay, for the runs that started on them), and a recording of a case under it.
"""

from __future__ import annotations

from temporalio import workflow

# A case opens with local activities (its assessment and its first write), and upserts its
# search attributes only when one of them changes.
CHEAPER_CASE = "cheaper-case-2026-11"
# The case's writes to the read model are local activities, in the workflow task that made the
# change, unless an update's answer waits in that task.
LOCAL_WRITES = "local-writes-2026-11"
# A closed case is written as closed, and its departments told, before its closing message
# waits for the contact window.
CLOSE_AT_ONCE = "close-at-once-2026-12"
# A quiet case wakes only for something it does (a ladder step, the collector and legal
# thresholds, a promise's date, a task's deadline, an instalment), never on the calendar's daily
# tick: days past due are counted from a fixed origin where they are read (the `OldestDueDate`
# search attribute and the read model's `due_origin`, written when they change), and a wake
# that changes nothing writes nothing. Runs started before it keep waking every day to rewrite
# `DaysPastDue`, until they continue as new.
QUIET_CASE = "quiet-case-2026-12"
# An operator's update acts before the run loop of its workflow task (see `CaseShell.ready`).
ACT_FIRST = "act-first-2026-12"
# A promise is judged when the last day of its grace ends for the customer, not at the time of
# day it was made (a payment that evening kept it; with no grace, one for today was broken the
# moment it was made).
PROMISE_DAY_END = "promise-day-end-2026-12"
# A case opens with the assessment its starter made (`CaseInput.assessment`: intake scores the
# account before it starts the case) instead of its own assessment activity: one local
# activity and its marker fewer before the first reminder.
ASSESSED_AT_START = "assessed-at-start-2026-12"
# A ladder's send first tries once as a local activity, in the workflow task that decided it;
# only a send that fails goes on as an activity, retried through the server as before. A
# reminder is then one workflow task: no activity task, no second workflow task.
LOCAL_SEND = "local-send-2026-12"

# The changes the first release, release-2026-12, gathers.
_GATHERED_2026_12 = frozenset(
    {CHEAPER_CASE, LOCAL_WRITES, CLOSE_AT_ONCE, QUIET_CASE, ACT_FIRST, PROMISE_DAY_END}
)
# Newest first.
RELEASES: tuple[tuple[str, frozenset[str]], ...] = (
    ("release-2026-12c", _GATHERED_2026_12 | {ASSESSED_AT_START, LOCAL_SEND}),
    ("release-2026-12b", _GATHERED_2026_12 | {ASSESSED_AT_START}),
    ("release-2026-12", _GATHERED_2026_12),
)


NEWEST_RELEASE = RELEASES[0][0]  # what a starter names in `CaseInput.release`
_GATHERED = dict(RELEASES)


class Changes:
    """Which changes this run takes, decided at the first question: the release the input names,
    taken without a marker, or else the newest release's marker (a new run records it; an
    older run finds none, or an older release's)."""

    def __init__(self, named: str = "") -> None:
        self._named = named  # `CaseInput.release`
        self._released: frozenset[str] | None = None

    def taken(self, change: str) -> bool:
        if self._released is None:
            self._released = self._release()
        return change in self._released or workflow.patched(change)

    def _release(self) -> frozenset[str]:
        if self._named == NEWEST_RELEASE and not workflow.unsafe.is_replaying():
            return _GATHERED[NEWEST_RELEASE]
        # Live, the first `patched` records the newest release's marker. Replaying, `patched`
        # records nothing and answers whether the history holds the marker: a worker that did
        # not take the named release recorded its own newest one; none found, the named one.
        return next(
            (
                gathered
                for release, gathered in RELEASES
                if release != self._named and workflow.patched(release)
            ),
            _GATHERED.get(self._named, frozenset()),
        )
