"""The daily file's rules at their exact boundaries, and the exact reasons an operator reads
(the errors file, `collections intake`, the API's 422 all show them as they are)."""

from __future__ import annotations

from datetime import date

import pytest

from models.contracts import MAX_MINOR, Account, CaseInput, ContactPoints, Language
from models.intake import COLUMNS, MAX_CELL, RowError, parse_intake

AS_OF = date(2026, 11, 28)
HEADER = ",".join(c.name for c in COLUMNS)
GOOD = {
    "account_no": "PL100000000001",
    "customer_ref": "CUST00000001",
    "customer_name": "张伟",
    "mobile": "+8613800000001",
    "language": "zh-CN",
    "time_zone": "Asia/Shanghai",
    "product": "personal_loan",
    "currency": "CNY",
    "outstanding_minor": "5000000",
    "overdue_minor": "250000",
    "oldest_due_date": "2026-10-20",
    "strategy": "",
}
# Past csv's field limit (131 072 characters): the reader gives up on the file there.
UNREADABLE = "x" * 200_000


def line(**changes: str) -> str:
    return ",".join({**GOOD, **changes}[c.name] for c in COLUMNS)


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join((header, *rows)) + "\n"


def errors_of(text: str, **options: object) -> list[tuple[int, str, str]]:
    parsed = parse_intake(text, as_of=AS_OF, **options)  # type: ignore[arg-type]
    return [(e.row, e.field, e.reason) for e in parsed.errors]


# --- what the operator reads ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"customer_ref": ""}, "customer_ref", "is missing"),
        ({"product": "card\x07"}, "product", "holds a control character"),
        ({"account_no": "AB-12"}, "account_no", "must be 6 to 34 letters and digits"),
        (
            {"mobile": "+86 138 0000 0001"},
            "mobile",
            "mobile is not E.164 (+ and 8 to 15 digits, no spaces)",
        ),
        ({"language": "fr"}, "language", "unknown language (use zh-CN or en)"),
        (
            {"time_zone": "Asia/Beijing"},
            "time_zone",
            "unknown time zone (use an IANA name such as Asia/Shanghai)",
        ),
        ({"currency": "RMB"}, "currency", "unknown currency (use an ISO 4217 code such as CNY)"),
        (
            {"outstanding_minor": "12.50"},
            "outstanding_minor",
            "is not a whole number of minor units",
        ),
        ({"overdue_minor": "-1"}, "overdue_minor", "must not be negative"),
        (
            {"outstanding_minor": "0", "overdue_minor": "0"},
            "outstanding_minor",
            "is zero: nothing to collect",
        ),
        ({"overdue_minor": "5000001"}, "overdue_minor", "is greater than outstanding_minor"),
        ({"outstanding_minor": str(MAX_MINOR + 1)}, "outstanding_minor", "is too large"),
        ({"outstanding_minor": "1" * 20}, "outstanding_minor", "is too large"),
        ({"oldest_due_date": "2026-02-30"}, "oldest_due_date", "is not a date in YYYY-MM-DD form"),
        (
            {"oldest_due_date": "2026-11-29"},
            "oldest_due_date",
            "is in the future (after 2026-11-28)",
        ),
        ({"strategy": "nope"}, "strategy", "unknown strategy (no policy of that name)"),
    ],
)
def test_each_reason_reads_exactly_so(changes: dict[str, str], field: str, reason: str) -> None:
    text = csv_text(line(**changes))
    assert errors_of(text, strategies={"default"}) == [(2, field, reason)]


def test_a_row_of_the_wrong_width_says_how_many_columns() -> None:
    assert errors_of(csv_text(line() + ",extra")) == [
        (2, "columns", "expected 12 columns, found 13")
    ]


def test_an_empty_first_row_is_a_file_error() -> None:
    parsed = parse_intake(csv_text(line(), header=",,"), as_of=AS_OF)
    assert parsed.valid == [] and parsed.file_error
    assert parsed.errors == [RowError(1, "header", "the first row must be the header")]


def test_repeated_columns_are_named_once_each_in_order() -> None:
    header = HEADER + ",mobile,Account_No,mobile"
    parsed = parse_intake(csv_text(line() + ",,,", header=header), as_of=AS_OF)
    assert parsed.valid == [] and parsed.file_error
    assert parsed.errors == [RowError(1, "header", "repeated column(s): account_no, mobile")]


# --- a file csv cannot read ------------------------------------------------------------------


def test_a_header_csv_cannot_read_rejects_the_file_on_row_one() -> None:
    parsed = parse_intake(csv_text(line(), header=HEADER + "," + UNREADABLE), as_of=AS_OF)
    assert parsed.valid == [] and parsed.file_error
    [error] = parsed.errors
    assert (error.row, error.field) == (1, "header")
    assert error.reason.startswith("not readable as CSV from here on (")
    assert "xxxxxxxxxx" not in error.reason


def test_a_row_csv_cannot_read_stops_the_file_there_and_keeps_the_rows_before() -> None:
    text = csv_text(line(), line(account_no="CC000000002", customer_name=UNREADABLE), line())
    parsed = parse_intake(text, as_of=AS_OF)
    assert [row for row, _ in parsed.valid] == [2] and not parsed.file_error
    [error] = parsed.errors
    assert (error.row, error.field) == (3, "file")
    assert error.reason.startswith("not readable as CSV from here on (")


# --- cells ----------------------------------------------------------------------------------


def test_a_cell_may_hold_max_cell_characters_and_not_one_more() -> None:
    at, past = "N" * MAX_CELL, "N" * (MAX_CELL + 1)
    [(_, case)] = parse_intake(csv_text(line(customer_name=at)), as_of=AS_OF).valid
    assert case.customer_name == at
    assert errors_of(csv_text(line(customer_name=past))) == [
        (2, "customer_name", f"is longer than {MAX_CELL} characters")
    ]


@pytest.mark.parametrize("field", ["mobile", "currency", "account_no", "language"])
def test_a_cell_that_is_not_text_is_one_error_not_two(field: str) -> None:
    """The cell is set aside once refused: its own check does not add a second reason."""
    text = csv_text(line(**{field: GOOD[field][:3] + "\x00" + GOOD[field][3:]}))
    assert errors_of(text) == [(2, field, "holds a control character")]


def test_a_blank_mobile_is_missing_not_also_malformed() -> None:
    assert errors_of(csv_text(line(mobile=""))) == [(2, "mobile", "is missing")]


def test_a_quoted_cell_keeps_its_line_break_as_the_file_wrote_it() -> None:
    text = csv_text(line(customer_name='"Li\r\nNa"'), line(account_no="CC000000002")).replace(
        "\n", "\r\n"
    )
    valid = parse_intake(text.replace("\r\r\n", "\r\n"), as_of=AS_OF).valid
    assert [(row, case.customer_name) for row, case in valid] == [(2, "Li\r\nNa"), (3, "张伟")]


# --- amounts and dates ------------------------------------------------------------------------


def test_the_largest_amount_is_taken_and_leading_zeros_do_not_count() -> None:
    largest = str(MAX_MINOR)
    padded = "0" * 30 + "5"
    text = csv_text(line(outstanding_minor=largest, overdue_minor=padded))
    [(_, case)] = parse_intake(text, as_of=AS_OF).valid
    assert (case.account.outstanding_minor, case.account.overdue_minor) == (MAX_MINOR, 5)


@pytest.mark.parametrize("written", ["20261020", "2026-10-20T00:00", "2026-W43-2"])
def test_a_due_date_in_another_iso_form_is_refused(written: str) -> None:
    assert errors_of(csv_text(line(oldest_due_date=written))) == [
        (2, "oldest_due_date", "is not a date in YYYY-MM-DD form")
    ]


# --- what a good row becomes ---------------------------------------------------------------


def test_a_good_row_becomes_exactly_this_case() -> None:
    row = line(
        customer_name="Olivia Brown",
        mobile="+447700900004",
        language="en",
        time_zone="Europe/London",
        product="card",
        currency="gbp",
        strategy="demo",
    )
    [(_, case)] = parse_intake(csv_text(row), as_of=AS_OF).valid
    assert case == CaseInput(
        customer_ref="CUST00000001",
        customer_name="Olivia Brown",
        contact=ContactPoints(
            mobile="+447700900004", language=Language.EN, time_zone="Europe/London"
        ),
        account=Account(
            account_no="PL100000000001",
            product="card",
            currency="GBP",
            outstanding_minor=5_000_000,
            overdue_minor=250_000,
            oldest_due_date=date(2026, 10, 20),
        ),
        strategy_version="demo",
    )


@pytest.mark.parametrize(("default", "expected"), [("", ""), ("default", "default")])
def test_without_a_strategy_column_every_row_takes_the_default(default: str, expected: str) -> None:
    names = [c.name for c in COLUMNS if c.name != "strategy"]
    row = ",".join(GOOD[name] for name in names)
    parsed = parse_intake(
        csv_text(row, header=",".join(names)), as_of=AS_OF, default_strategy=default
    )
    assert [case.strategy_version for _, case in parsed.valid] == [expected]
