"""Masking for phone numbers: every log line and error message that mentions one uses these."""

from __future__ import annotations

import re

_PHONE_IN_TEXT = re.compile(r"\+?\d[\d\- ]{6,}\d")

# ITU-T E.164 country codes have 1 to 3 digits; these prefixes pick the length.
_ONE_DIGIT = ("1", "7")
_TWO_DIGIT = (
    *("20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45"),
    *("46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61"),
    *("62", "63", "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94"),
    *("95", "98"),
)


def _country_code_length(digits: str) -> int:
    if digits.startswith(_ONE_DIGIT):
        return 1
    if digits.startswith(_TWO_DIGIT):
        return 2
    return 3


def mask_phone(number: str) -> str:
    """`+8613800138000` -> `+86*******8000`: the country code and the last 4 digits only."""
    compact = re.sub(r"[\s\-()]", "", number)
    if not re.fullmatch(r"\+?\d+", compact):
        return "***"  # not a number: it could be anything, a name included
    digits = compact.lstrip("+")
    if len(digits) <= 6:
        return "*" * max(len(digits) - 2, 1) + digits[-2:]
    if not compact.startswith("+"):
        return "*" * (len(digits) - 4) + digits[-4:]
    keep = _country_code_length(digits)
    return "+" + digits[:keep] + "*" * (len(digits) - keep - 4) + digits[-4:]


def mask_numbers(text: str) -> str:
    """Masks every phone-like run of digits in free text (a provider's error message)."""
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), text)
