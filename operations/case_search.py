"""Days past due in a case search, as people type them, in terms Temporal's visibility holds.

A case does not rewrite its days past due every day (patch `quiet-case-2026-12`): its search
attributes hold the instant they are counted from, `OldestDueDate`, set once. So a search
typed as `DaysPastDue > 30` is asked as `OldestDueDate <= <now - 31 days>`, in the days of the
deployment's strategy (a demo's day is a minute). A run started before that patch still
rewrites `DaysPastDue` every day and has no `OldestDueDate`: each comparison matches it by its
`DaysPastDue` as before. Anything else said of `DaysPastDue` is refused with what to write.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from config.settings import Settings
from config.strategy import load_strategy
from models.visibility import DAYS_PAST_DUE, OLDEST_DUE_DATE

CALENDAR_DAY = timedelta(days=1)
MAX_DAYS = 36_500  # as the API's bound: an age beyond any debt
HOW = f"compare {DAYS_PAST_DUE.name} with a whole number of days (0–{MAX_DAYS})"
EXAMPLES = f"{DAYS_PAST_DUE.name} > 30, {DAYS_PAST_DUE.name} BETWEEN 31 AND 60"

# A quoted literal (skipped as it stands) or the attribute's name, bare or in backquotes.
_TOKEN = re.compile(
    r"""(?P<quoted>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
    rf"|(?P<name>`{DAYS_PAST_DUE.name}`|\b{DAYS_PAST_DUE.name}\b)"
)
_COMPARED = re.compile(r"\s*(>=|<=|!=|<>|=|<|>)\s*(\d+)(?![\w.])")
_BETWEEN = re.compile(r"\s+BETWEEN\s+(\d+)\s+AND\s+(\d+)(?![\w.])", re.IGNORECASE)


class SearchError(ValueError):
    """A search that cannot be asked as typed; the message says what to write instead."""


def search_day(settings: Settings) -> timedelta:
    """The day days past due are counted in: the configured strategy's."""
    return timedelta(seconds=load_strategy(settings.policy_file).day_seconds)


def translate(query: str, *, now: datetime, day: timedelta = CALENDAR_DAY) -> str:
    """`query` with every comparison of `DaysPastDue` asked of `OldestDueDate` at `now` (and
    of `DaysPastDue` for runs that have no `OldestDueDate`). Raises `SearchError`."""
    _check_parentheses(query)
    out: list[str] = []
    at = 0
    for token in _TOKEN.finditer(query):
        if token.group("quoted"):
            continue
        out.append(query[at : token.start()])
        rest = query[token.end() :]
        if compared := _COMPARED.match(rest):
            op, days = compared.group(1), _days(compared.group(2))
            out.append(_comparison(op, days, now, day))
            at = token.end() + compared.end()
        elif between := _BETWEEN.match(rest):
            low, high = _days(between.group(1)), _days(between.group(2))
            origin = f"{_at_least(low, now, day)} AND {_below(high + 1, now, day)}"
            out.append(_or_legacy(origin, f"BETWEEN {low} AND {high}"))
            at = token.end() + between.end()
        else:
            typed = (query[token.start() :][:40]).strip()
            raise SearchError(f"cannot search by {typed!r}: {HOW}, e.g. {EXAMPLES}")
    out.append(query[at:])
    return "".join(out)


def _comparison(op: str, days: int, now: datetime, day: timedelta) -> str:
    """`DaysPastDue <op> days`: with days counted down from the origin, at least n days past
    due is an origin at or before now - n days."""
    match op:
        case ">=":
            origin = _at_least(days, now, day)
        case ">":
            origin = _at_least(days + 1, now, day)
        case "<=":
            origin = _below(days + 1, now, day)
        case "<":
            origin = _below(days, now, day)
        case "=":
            origin = f"{_at_least(days, now, day)} AND {_below(days + 1, now, day)}"
        case _:  # != and <>
            origin = f"{_below(days, now, day)} OR {_at_least(days + 1, now, day)}"
    return _or_legacy(origin, f"{op} {days}")


def _or_legacy(origin: str, legacy: str) -> str:
    return f"(({origin}) OR ({OLDEST_DUE_DATE.name} IS NULL AND {DAYS_PAST_DUE.name} {legacy}))"


def _at_least(days: int, now: datetime, day: timedelta) -> str:
    return f"{OLDEST_DUE_DATE.name} <= '{_stamp(now - day * days)}'"


def _below(days: int, now: datetime, day: timedelta) -> str:
    return f"{OLDEST_DUE_DATE.name} > '{_stamp(now - day * days)}'"


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _days(text: str) -> int:
    days = int(text)
    if days > MAX_DAYS:
        raise SearchError(f"{DAYS_PAST_DUE.name} {days} is out of range: {HOW}")
    return days


def _check_parentheses(query: str) -> None:
    """The typed search is asked inside parentheses, after the case's own conditions: an
    unbalanced one would reach outside them."""
    depth = 0
    for token in re.finditer(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[()]""", query):
        depth += {"(": 1, ")": -1}.get(token.group(), 0)
        if depth < 0:
            break
    if depth:
        raise SearchError("the search's parentheses do not pair up")
