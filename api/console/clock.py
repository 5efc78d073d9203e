"""Instants on the console's pages in the operators' time zone (`CONSOLE_TIME_ZONE`), each
labelled with its offset from UTC, so that a deadline reads as the people working it live it.
Stored instants are UTC; a naive one (SQLite's) is UTC too."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo

from fastapi import Request
from jinja2 import pass_context
from jinja2.runtime import Context

from api.deps import get_settings


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone_of(request: Request) -> ZoneInfo:
    return _zone(get_settings(request).console_time_zone)


def in_zone(instant: datetime, zone: ZoneInfo) -> datetime:
    return (instant if instant.tzinfo else instant.replace(tzinfo=UTC)).astimezone(zone)


def offset_label(local: datetime) -> str:
    """`UTC`, `UTC+8`, `UTC-4`, `UTC+5:30`."""
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    if minutes == 0:
        return "UTC"
    sign, minutes = ("+" if minutes > 0 else "-"), abs(minutes)
    hours, rest = divmod(minutes, 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


@pass_context
def clock(context: Context, instant: datetime | None) -> str:
    """`2026-12-05 11:13 UTC+8`; `–` for none."""
    if instant is None:
        return "–"
    local = in_zone(instant, zone_of(context["request"]))
    return f"{local:%Y-%m-%d %H:%M} {offset_label(local)}"


@pass_context
def day(context: Context, instant: datetime) -> str:
    """The operators' calendar day of `instant`."""
    return f"{in_zone(instant, zone_of(context['request'])):%Y-%m-%d}"
