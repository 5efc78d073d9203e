"""What people type into the console's forms, read into the API's input types.

People think in yuan, not fen: an amount is typed in major units ("1,234.56") and becomes minor
units by the currency's own number of decimals. A value that cannot be read raises `FormError`
naming the field; everything else (a negative amount, a date in the past ...) is the workflow's
to refuse, with its own message, exactly as through the API.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from fastapi import Request

from models.money import decimals


class FormError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


async def posted(request: Request) -> dict[str, str]:
    """The posted form, each field as the text typed (a file field, which no form here has,
    as its name)."""
    return {key: str(value) for key, value in (await request.form()).items()}


def minor_units(raw: str, currency: str, field: str = "amount") -> int:
    """'1,234.56' CNY -> 123456. The sign is kept: the workflow refuses what is not positive."""
    text = raw.strip().replace(",", "").replace("，", "").replace(" ", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise FormError(field, "not_a_number") from None
    if not amount.is_finite() or len(text) > 30:
        raise FormError(field, "not_a_number")
    scaled = amount.scaleb(decimals(currency))
    if scaled != scaled.to_integral_value():
        raise FormError(field, "too_many_decimals")
    return int(scaled)


def optional_minor_units(raw: str, currency: str, field: str = "amount") -> int | None:
    return minor_units(raw, currency, field) if raw.strip() else None


def a_date(raw: str, field: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise FormError(field, "not_a_date") from None


def optional_date(raw: str, field: str) -> date | None:
    return a_date(raw, field) if raw.strip() else None


def optional_seconds(raw: str, field: str) -> int | None:
    """A length typed as minutes:seconds ("4:05") or seconds ("245"); blank for none. How long
    a call may be is the case's to refuse."""
    text = raw.strip()
    if not text:
        return None
    minutes, colon, seconds = text.rpartition(":")
    parts = [minutes, seconds] if colon else [seconds]
    if not all(p.isascii() and p.isdigit() and len(p) <= 6 for p in parts):
        raise FormError(field, "not_a_duration")
    if colon and int(seconds) >= 60:
        raise FormError(field, "not_a_duration")
    return int(minutes) * 60 + int(seconds) if colon else int(seconds)
