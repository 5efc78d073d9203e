"""Phone numbers are masked in every log line and message: the country code and the last 4."""

from __future__ import annotations

from models.privacy import mask_numbers, mask_phone


def test_mask_phone() -> None:
    assert mask_phone("+8613800138000") == "+86*******8000"
    assert mask_phone("+14155550123") == "+1******0123"
    assert mask_phone("+447700900123") == "+44******0123"
    assert mask_phone("13800138000") == "*******8000"
    assert mask_phone("Zhang San") == "***"
    assert mask_phone("12") == "*12"
    assert mask_numbers("The 'To' number +8613800138000 is not valid") == (
        "The 'To' number +86*******8000 is not valid"
    )
