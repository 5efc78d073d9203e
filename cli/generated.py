"""Commands made from an action's input type, for a catalogue row nobody wrote a command for:
the key as an argument (an account, a task key), then one option per field of the input
(`agent_phone`: `--agent-phone`), required where the input has no default. A field no flag
carries (a date, a tuple, a nested report) makes it a `RuntimeError` at start-up: write that
command by hand."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Collection
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

import typer

from cli.actions import CommandEnv, JsonOption, launch

# What a flag carries as typed: text, numbers, yes or no, one of an enum's values (a `StrEnum`
# is a `str`), or nothing (`X | None`).
_FLAG_TYPES = (str, int, float, bool)

Launch = Callable[..., None]


def command_from_input(
    name: str,
    input_type: type,
    key: tuple[str, Any],
    run: Callable[[CommandEnv, str, Any], Awaitable[int]],
    *,
    skip: Collection[str] = (),
    summary: str = "",
    launcher: Launch = launch,
) -> Callable[..., None]:
    """`key`: the argument's name and its typer annotation; `run(env, key, input)` acts."""
    key_name, key_type = key
    hints = get_type_hints(input_type)
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter(key_name, keyword, annotation=key_type)]
    for field in dataclasses.fields(input_type):
        if field.name == key_name or field.name in skip:
            continue
        kind = hints[field.name]
        if not _flag_carries(kind):
            raise RuntimeError(f"{name}: no flag for {field.name} ({kind}); write its command")
        default = inspect.Parameter.empty if field.default is dataclasses.MISSING else field.default
        typed = Annotated[kind, typer.Option()]  # type: ignore[valid-type]
        params.append(inspect.Parameter(field.name, keyword, annotation=typed, default=default))
    params.append(inspect.Parameter("json_output", keyword, annotation=JsonOption, default=False))
    carries_key = any(f.name == key_name for f in dataclasses.fields(input_type))

    def command(*, json_output: bool = False, **values: Any) -> None:
        keyed = values.pop(key_name)
        req = input_type(**({key_name: keyed} if carries_key else {}), **values)
        launcher(lambda env: run(env, keyed, req), json_output=json_output)

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {param.name: param.annotation for param in params}
    command.__doc__ = summary
    return command


def _flag_carries(hint: Any) -> bool:
    if get_origin(hint) in (Union, UnionType):
        kinds = [kind for kind in get_args(hint) if kind is not NoneType]
        return len(kinds) == 1 and _flag_carries(kinds[0])
    return isinstance(hint, type) and issubclass(hint, _FLAG_TYPES)
