"""Money as people read it: integer minor units in the currency's own decimals, `1,234.56 CNY`.

The one formatter for every face of the product: the console, the CLI, `history show` and the
legal dossier.
"""

from __future__ import annotations

import re

# ISO 4217 minor units where they are not 2.
_DECIMALS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"), 0),
    **dict.fromkeys(("RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
# An amount as the workflows write it into their timeline: `120050 CNY`.
_IN_MINOR_UNITS = re.compile(r"(?<![\w.,])(-?\d+) ([A-Z]{3})\b")


def decimals(currency: str) -> int:
    return _DECIMALS.get(currency.upper(), 2)


def money(amount_minor: int | None, currency: str | None) -> str:
    """123456, CNY -> '1,234.56 CNY'; no amount -> '-'."""
    if amount_minor is None:
        return "-"
    code = currency or ""
    places = decimals(code)
    sign = "-" if amount_minor < 0 else ""
    whole, part = divmod(abs(amount_minor), 10**places)
    text = f"{whole:,}" + (f".{part:0{places}d}" if places else "")
    return f"{sign}{text} {code}".strip()


def amounts_in_words(text: str) -> str:
    """'payment 120050 CNY ref B-1' -> 'payment 1,200.50 CNY ref B-1'."""
    return _IN_MINOR_UNITS.sub(lambda m: money(int(m[1]), m[2]), text)
