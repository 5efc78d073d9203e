"""Fair allocation of the collectors' work: new tasks put in the queue of a collector who speaks
the customer's language and works the account's product, round robin within each collector's
capacity; and a whole queue moved in one action (an absent collector's).

The rule, `allocate`, is pure: open tasks and collectors in, placements and the tasks nobody
could take (with why) out. The most urgent task is placed first (soonest deadline, then the
larger outstanding balance, then the more days past due). Collectors take turns in a rotation
that starts with the least loaded (then by id); a task goes to the next in turn who fits: who
speaks its language (by the language's first part: `zh` speaks to `zh-CN`), works its product
(a collector with no products works every product) and holds fewer open tasks than their
capacity. The turn then passes to the one after them. When everyone who fits a task is full,
a task placed earlier in the run moves to someone else who fits it and has room, if that frees
one of them (a collector who works every product may have taken, in turn, a task a specialist
could have had). A task nobody fits stays unassigned,
reported with why: nobody speaks its language, nobody who speaks it works its product, or
everyone who could take it is at capacity.

`allocate_open_tasks` reads the read model (the operations queue's open tasks nobody holds,
the active people with the operations role and their open load), decides, and asks each case
through `operations.departments.assign_task`, as the service `svc-allocator`. A task it placed
is no longer unassigned, so a second run moves nothing. `reassign_queue` moves every open task
of one person to another (checked active and fit for each queue first: a refused target moves
nothing), or shares them out by the same rule among the others of their team.

The read model trails the cases by one write (well under a second with a worker running): the
allocator asks with `only_unassigned`, so a collector's claim that reached the case before the
allocator's question wins, and the task is reported as refused ("already held by ...").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum

from models.allocation import QUEUE, OpenTask
from models.people import Actor
from operations import departments, staff
from operations.answers import Answer, Outcome
from operations.gateway import Gateway
from operations.roles import Role
from readmodel import queries
from readmodel.engine import Database
from readmodel.workload import open_loads, open_tasks

ALLOCATOR = "svc-allocator"  # who the cases' timelines say placed a task


class Unplaceable(StrEnum):
    LANGUAGE = "language"  # nobody speaks the customer's language
    PRODUCT = "product"  # nobody who speaks it works the account's product
    CAPACITY = "capacity"  # everyone who could take it is at capacity
    QUEUE = "queue"  # not a collector's task: a supervisor names who takes it


@dataclass(frozen=True)
class Collector:
    person_id: str
    languages: frozenset[str]  # `zh-CN`, `zh`, `en`: matched by their first part
    products: frozenset[str]  # `card`, `personal_loan`; empty: every product
    capacity: int
    load: int = 0  # open tasks they hold now
    team: str = ""

    def speaks(self, language: str) -> bool:
        return _first_part(language) in {_first_part(known) for known in self.languages}

    def works(self, product: str) -> bool:
        wanted = product.strip().lower()
        return not self.products or wanted in {known.lower() for known in self.products}


@dataclass(frozen=True)
class Placement:
    task_key: str
    person_id: str


@dataclass(frozen=True)
class Unplaced:
    task_key: str
    why: Unplaceable
    message: str


@dataclass(frozen=True)
class Allocation:
    placed: tuple[Placement, ...] = ()
    unplaced: tuple[Unplaced, ...] = ()


@dataclass(frozen=True)
class Refused:
    """A placement the case (or the check before it) refused: the task stays where it was."""

    task_key: str
    person_id: str
    message: str


@dataclass(frozen=True)
class AllocationReport:
    placed: tuple[Placement, ...] = ()
    unplaced: tuple[Unplaced, ...] = ()
    refused: tuple[Refused, ...] = ()
    message: str = ""

    def counts(self) -> str:
        return (
            f"{len(self.placed)} placed, {len(self.unplaced)} unplaced, {len(self.refused)} refused"
        )


def _first_part(language: str) -> str:
    return language.strip().lower().split("-")[0]


def urgency(task: OpenTask) -> tuple[datetime, int, int, str]:
    return (task.deadline, -task.outstanding_minor, -task.days_past_due, task.task_key)


def allocate(tasks: Iterable[OpenTask], collectors: Iterable[Collector]) -> Allocation:
    """Who takes which task (see the module's docstring); tasks not in the operations queue are
    left to a supervisor."""
    rotation = sorted(collectors, key=lambda c: (c.load, c.person_id))
    load = {c.person_id: c.load for c in rotation}
    turn = 0
    placed: list[tuple[OpenTask, Collector]] = []
    unplaced: list[Unplaced] = []
    for task in sorted(tasks, key=urgency):
        if task.queue != QUEUE:
            message = f"a {task.queue} task: a supervisor names who takes it"
            unplaced.append(Unplaced(task.task_key, Unplaceable.QUEUE, message))
            continue
        for step in range(len(rotation)):
            taker = rotation[(turn + step) % len(rotation)]
            if _fits(taker, task) and load[taker.person_id] < taker.capacity:
                placed.append((task, taker))
                load[taker.person_id] += 1
                turn = (turn + step + 1) % len(rotation)
                break
        else:
            if not _make_room(task, rotation, load, placed):
                unplaced.append(_why_not(task, rotation))
    placements = tuple(Placement(task.task_key, taker.person_id) for task, taker in placed)
    return Allocation(placements, tuple(unplaced))


def _fits(taker: Collector, task: OpenTask) -> bool:
    return taker.speaks(task.language) and taker.works(task.product)


def _make_room(
    task: OpenTask,
    rotation: Sequence[Collector],
    load: dict[str, int],
    placed: list[tuple[OpenTask, Collector]],
) -> bool:
    """When everyone who fits `task` is full: a task placed earlier in this run moves from one
    of them to someone else who fits it and has room, and `task` takes its place. Round robin
    may have given a collector who works every product the task a specialist could take; this
    one step gives it back (True when it did)."""
    for index, (earlier, holder) in enumerate(placed):
        if not _fits(holder, task):
            continue
        for other in rotation:
            if (
                other is not holder
                and _fits(other, earlier)
                and load[other.person_id] < other.capacity
            ):
                placed[index] = (earlier, other)
                load[other.person_id] += 1
                placed.append((task, holder))
                return True
    return False


def _why_not(task: OpenTask, collectors: Sequence[Collector]) -> Unplaced:
    language = task.language.strip() or "(no language recorded)"
    speakers = [c for c in collectors if c.speaks(task.language)]
    if not speakers:
        message = f"nobody active in the operations role speaks {language}"
        return Unplaced(task.task_key, Unplaceable.LANGUAGE, message)
    if not any(c.works(task.product) for c in speakers):
        message = f"nobody who speaks {language} works {task.product}"
        return Unplaced(task.task_key, Unplaceable.PRODUCT, message)
    message = f"everyone who speaks {language} and works {task.product} is at capacity"
    return Unplaced(task.task_key, Unplaceable.CAPACITY, message)


# --- the read model ------------------------------------------------------------------------


async def collectors(db: Database) -> list[Collector]:
    """The active people with the operations role, with what they work and their open load."""
    load = await open_loads(db)
    return [
        Collector(
            person_id=row.person_id,
            languages=frozenset(x.strip() for x in row.languages.split(",") if x.strip()),
            products=frozenset(p.strip() for p in row.products.split(",") if p.strip()),
            capacity=row.capacity,
            load=load.get(row.person_id, 0),
            team=row.team,
        )
        for row in await staff.directory(db, include_inactive=False)
        if row.kind == "person" and Role.OPERATIONS in staff.roles_from(row.roles)
    ]


# --- acting on it --------------------------------------------------------------------------


def allocator(asked_by: str = "") -> Actor:
    """The allocator as the cases record it: on its schedule, or asked by a person."""
    return Actor(ALLOCATOR, via=f"asked by {asked_by}" if asked_by else "schedule")


async def allocate_open_tasks(
    gateway: Gateway, db: Database, *, asked_by: str = "", now: datetime | None = None
) -> AllocationReport:
    """Places the operations queue's unassigned open tasks; each placement is the case's
    `assign_task`, asked as `svc-allocator`."""
    now = now or datetime.now(UTC)
    decided = allocate(await open_tasks(db, assignee=None, now=now), await collectors(db))
    acting = gateway.acting(allocator(asked_by))
    reason = "allocated: language, product, capacity"
    report = await _carry_out(acting, db, decided, reason, unassigned_only=True)
    return replace(report, message=f"allocation: {report.counts()}")


async def reassign_queue(
    gateway: Gateway,
    db: Database,
    from_person: str,
    to_person: str | None,
    reason: str,
    *,
    now: datetime | None = None,
) -> Answer[AllocationReport]:
    """Moves every open task of `from_person` to `to_person`, or (None) shares the collectors'
    tasks out by `allocate` among the other collectors of their team (everyone's, when they
    have none). A named target is checked (a person, active, with a role that works each of
    the tasks' queues) before anything moves: refused, nothing changes."""
    source = from_person.strip()
    if not reason.strip():
        return Answer(Outcome.REFUSED, message="a reason is required")
    held = await open_tasks(db, assignee=source, now=now or datetime.now(UTC))
    if to_person is not None:
        target = to_person.strip()
        if target == source:
            return Answer(Outcome.REFUSED, message=f"the tasks are already {source}'s")
        for queue in sorted({t.queue for t in held} or {QUEUE}):
            if problem := await departments.assignee_problem(db, target, queue):
                return Answer(Outcome.REFUSED, message=problem)
        decided = Allocation(placed=tuple(Placement(t.task_key, target) for t in held))
    else:
        team = row.team if (row := await staff.find(db, source)) is not None else ""
        others = [
            c
            for c in await collectors(db)
            if c.person_id != source and (not team or c.team == team)
        ]
        decided = allocate(held, others)
    report = await _carry_out(gateway, db, decided, f"queue of {source} moved: {reason.strip()}")
    whither = to_person.strip() if to_person is not None else "the team"
    message = f"{source}'s queue to {whither}: {report.counts()}"
    return Answer(Outcome.ACCEPTED, replace(report, message=message), message=message)


async def _carry_out(
    gateway: Gateway,
    db: Database,
    decided: Allocation,
    reason: str,
    *,
    unassigned_only: bool = False,
) -> AllocationReport:
    """Asks each case in turn; one refused (the task done meanwhile, the case closed, the
    person disabled since) is reported and the others go on. `unassigned_only`: a task someone
    took since it was read (its row says so now) is left to them."""
    placed: list[Placement] = []
    refused: list[Refused] = []
    for placement in decided.placed:
        if unassigned_only:
            row = await queries.get_task(db, task_key=placement.task_key)
            if row is not None and row.assignee:
                taken = f"taken by {row.assignee} meanwhile"
                refused.append(Refused(placement.task_key, placement.person_id, taken))
                continue
        answer = await departments.assign_task(
            gateway,
            db,
            placement.task_key,
            placement.person_id,
            reason,
            only_unassigned=unassigned_only,
        )
        if answer.ok:
            placed.append(placement)
        else:
            message = answer.message or str(answer.outcome)
            refused.append(Refused(placement.task_key, placement.person_id, message))
    return AllocationReport(tuple(placed), decided.unplaced, tuple(refused))


@dataclass(frozen=True)
class QueueLoad:
    """A collector's queue as a supervisor sees it: open tasks against capacity."""

    person_id: str
    name: str
    team: str
    languages: str
    products: str
    capacity: int
    load: int
    active: bool = True
    roles: frozenset[Role] = field(default_factory=frozenset)


async def queue_loads(db: Database) -> list[QueueLoad]:
    """Every person with the operations role (the disabled too: their queues may need moving),
    and anyone else holding open tasks, by team then id."""
    load = await open_loads(db)
    views = [
        QueueLoad(
            person_id=row.person_id,
            name=row.display_name,
            team=row.team,
            languages=row.languages,
            products=row.products,
            capacity=row.capacity,
            load=load.get(row.person_id, 0),
            active=row.active,
            roles=staff.roles_from(row.roles),
        )
        for row in await staff.directory(db)
        if row.kind == "person"
        and (Role.OPERATIONS in staff.roles_from(row.roles) or row.person_id in load)
    ]
    return sorted(views, key=lambda v: (v.team, v.person_id))
