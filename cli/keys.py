"""`collections keys reseal`: the read model's personal data sealed under the newest data key."""

from __future__ import annotations

from cli.actions import EXIT_OK, CommandEnv


async def reseal(env: CommandEnv) -> int:
    from readmodel.reseal import reseal as reseal_all

    done = await reseal_all(env.database())
    if env.json_output:
        return env.print_json({"values": done.values, "indexes": done.indexes}, EXIT_OK)
    for column, count in done.values.items():
        env.say(f"{column}: {count} sealed anew")
    env.say(f"customers.mobile_index: {done.indexes} recomputed")
    env.say("every personal field is sealed under the newest key", "green")
    return EXIT_OK
