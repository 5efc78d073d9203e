"""The cores of `collections tasks allocate` and `collections tasks reassign` (the commands
themselves are in `cli.tasks`): the allocator run now, and a whole queue moved.

- `tasks allocate`: the operations queue's unassigned tasks go to collectors who speak the
  customer's language and work the product, round robin within their capacity
  (`operations.allocation`); it also runs on its schedule (`collections-allocation`).
- `tasks reassign --from P [--to Q] --reason R`: every open task of P moves to Q (an active
  person whose role works the tasks' queues: anyone else is refused and nothing moves), or,
  without `--to`, is shared out among the other collectors of P's team.

Exit codes: 0 done (tasks nobody could take, or that a case refused, are listed); 1 the target
refused, nothing moved; 2 Temporal or the database unreachable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.actions import EXIT_OK, CommandEnv, jsonable, settled

if TYPE_CHECKING:
    from operations.allocation import AllocationReport


async def allocate(env: CommandEnv) -> int:
    from operations import allocation

    gateway = await env.gateway()
    report = await allocation.allocate_open_tasks(gateway, env.database(), asked_by=env.actor())
    return shown(env, report)


async def reassign(env: CommandEnv, from_person: str, to_person: str | None, reason: str) -> int:
    from operations import allocation

    gateway = await env.gateway()
    answer = await allocation.reassign_queue(
        gateway, env.database(), from_person, to_person, reason
    )
    report = await settled(env, answer, f"queue of {from_person}", action=True)
    return shown(env, report)


def shown(env: CommandEnv, report: AllocationReport) -> int:
    if env.json_output:
        return env.print_json(jsonable(report))
    env.say(report.message, "green")
    if report.placed:
        env.table(("task", "to"), [(p.task_key, p.person_id) for p in report.placed])
    for left in report.unplaced:
        env.warn(f"{left.task_key}: {left.message}")
    for refused in report.refused:
        env.warn(f"{refused.task_key} to {refused.person_id} refused: {refused.message}")
    return EXIT_OK
