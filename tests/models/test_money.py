"""Amounts as people read them, in every face of the product."""

from models.money import amounts_in_words, money


def test_an_amount_is_shown_in_its_currency_s_own_decimals() -> None:
    assert money(123_456, "CNY") == "1,234.56 CNY"
    assert money(5, "CNY") == "0.05 CNY"
    assert money(-120_050, "USD") == "-1,200.50 USD"
    assert money(123_456, "JPY") == "123,456 JPY"
    assert money(1_234_567, "KWD") == "1,234.567 KWD"
    assert money(None, "CNY") == "-"


def test_a_timeline_line_gets_its_amounts_in_words_and_nothing_else() -> None:
    assert amounts_in_words("120050 CNY ref BANK-7") == "1,200.50 CNY ref BANK-7"
    assert (
        amounts_in_words("10000 CNY of 50000 CNY paid; contact resumes")
        == "100.00 CNY of 500.00 CNY paid; contact resumes"
    )
    # Already in words, a reference full of digits, a count of days: left alone.
    for text in ("1,200.50 CNY by 2026-12-03", "ref 20261128 paid", "31 days past due"):
        assert amounts_in_words(text) == text
