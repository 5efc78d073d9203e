"""The overdue file's checks: each kind of error names its row and field, good rows survive."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from config.settings import PROJECT_ROOT
from models.contracts import Language
from models.intake import COLUMNS, parse_intake

AS_OF = date(2026, 11, 28)
EXAMPLES = PROJECT_ROOT / "examples"
SAMPLE_AS_OF = date(2026, 11, 28)  # examples/make_sample.py's --as-of for the committed file
HEADER = ",".join(c.name for c in COLUMNS)
NAME, MOBILE = "张伟", "+8613800000001"
GOOD = {
    "account_no": "PL100000000001",
    "customer_ref": "CUST00000001",
    "customer_name": NAME,
    "mobile": MOBILE,
    "language": "zh-CN",
    "time_zone": "Asia/Shanghai",
    "product": "personal_loan",
    "currency": "CNY",
    "outstanding_minor": "5000000",
    "overdue_minor": "250000",
    "oldest_due_date": "2026-10-20",
    "strategy": "",
}


def line(**changes: str) -> str:
    return ",".join({**GOOD, **changes}[c.name] for c in COLUMNS)


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join((header, *rows)) + "\n"


def test_a_good_row_becomes_a_case_input() -> None:
    valid, errors = parse_intake(csv_text(line()), as_of=AS_OF)
    assert errors == []
    [(row, case)] = valid
    assert row == 2
    assert case.customer_name == NAME
    assert case.contact.mobile == MOBILE
    assert case.contact.language is Language.ZH_CN
    assert case.account.outstanding_minor == 5_000_000
    assert case.account.overdue_minor == 250_000
    assert case.account.oldest_due_date == date(2026, 10, 20)
    assert case.strategy_version == ""


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"customer_ref": ""}, "customer_ref", "is missing"),
        ({"customer_name": "  "}, "customer_name", "is missing"),
        ({"mobile": "+86 138 0000 0001"}, "mobile", "mobile is not E.164"),
        ({"mobile": "13800000001"}, "mobile", "mobile is not E.164"),
        ({"mobile": "+8613800000001234567"}, "mobile", "mobile is not E.164"),
        ({"language": "fr"}, "language", "unknown language"),
        ({"time_zone": "Asia/Beijing"}, "time_zone", "unknown time zone"),
        ({"outstanding_minor": "1234.50"}, "outstanding_minor", "not a whole number"),
        ({"overdue_minor": "1e5"}, "overdue_minor", "not a whole number"),
        ({"overdue_minor": "-100"}, "overdue_minor", "must not be negative"),
        ({"overdue_minor": "5000001"}, "overdue_minor", "greater than outstanding"),
        ({"outstanding_minor": "0", "overdue_minor": "0"}, "outstanding_minor", "is zero"),
        ({"outstanding_minor": str(2**63)}, "outstanding_minor", "too large"),
        ({"currency": "RMB"}, "currency", "unknown currency"),
        ({"oldest_due_date": "28/10/2026"}, "oldest_due_date", "YYYY-MM-DD"),
        ({"oldest_due_date": "2026-02-30"}, "oldest_due_date", "YYYY-MM-DD"),
        ({"oldest_due_date": "2026-11-29"}, "oldest_due_date", "in the future"),
        ({"account_no": "AB-12"}, "account_no", "6 to 34 letters and digits"),
        ({"account_no": "A" * 35}, "account_no", "6 to 34 letters and digits"),
        ({"strategy": "../../etc/passwd"}, "strategy", "unknown strategy"),
    ],
)
def test_each_error_names_its_row_and_field(
    changes: dict[str, str], field: str, reason: str
) -> None:
    valid, errors = parse_intake(
        csv_text(line(account_no="GOOD000001"), line(**changes)), as_of=AS_OF
    )
    assert [row for row, _ in valid] == [2]
    assert [(e.row, e.field) for e in errors] == [(3, field)]
    assert reason in errors[0].reason


def test_every_error_of_a_row_is_reported_at_once() -> None:
    bad = line(mobile="12345", language="jp", currency="XXX", oldest_due_date="tomorrow")
    _, errors = parse_intake(csv_text(bad), as_of=AS_OF)
    assert {e.field for e in errors} == {"mobile", "language", "currency", "oldest_due_date"}
    assert {e.row for e in errors} == {2}


def test_a_duplicate_account_names_the_first_row() -> None:
    rows = (line(), line(account_no="CC000000002"), line(), line())
    valid, errors = parse_intake(csv_text(*rows), as_of=AS_OF)
    assert [row for row, _ in valid] == [2, 3]
    assert [(e.row, e.field, e.reason) for e in errors] == [
        (4, "account_no", "duplicate; first on row 2"),
        (5, "account_no", "duplicate; first on row 2"),
    ]


@pytest.mark.parametrize(
    "row", [line() + ",extra", ",".join(line().split(",")[:-2])], ids=["extra", "short"]
)
def test_a_row_with_the_wrong_number_of_columns(row: str) -> None:
    valid, errors = parse_intake(csv_text(row), as_of=AS_OF)
    assert valid == []
    [error] = errors
    assert (error.row, error.field) == (2, "columns")
    assert "expected 12 columns" in error.reason


def test_trailing_empty_cells_are_tolerated() -> None:
    valid, errors = parse_intake(csv_text(line() + ",,"), as_of=AS_OF)
    assert errors == [] and len(valid) == 1
    valid, errors = parse_intake(csv_text(line(), header=HEADER + ",,"), as_of=AS_OF)
    assert errors == [] and len(valid) == 1


def test_unknown_columns_are_ignored() -> None:
    valid, errors = parse_intake(
        csv_text(line() + ",Pudong", header=HEADER + ",branch"), as_of=AS_OF
    )
    assert errors == [] and len(valid) == 1


def test_missing_header_columns_are_one_file_level_error() -> None:
    header = HEADER.replace("mobile,", "").replace(",currency", "")
    rows = ",".join(v for k, v in GOOD.items() if k not in ("mobile", "currency"))
    parsed = parse_intake(csv_text(rows, header=header), as_of=AS_OF)
    assert parsed.valid == []
    [error] = parsed.errors
    assert (error.row, error.field) == (1, "header")
    assert error.reason == "missing column(s): mobile, currency"
    assert parsed.file_error


def test_an_empty_file_has_no_header() -> None:
    parsed = parse_intake("", as_of=AS_OF)
    assert [(e.row, e.field) for e in parsed.errors] == [(1, "header")]
    assert parsed.file_error


def test_header_may_reorder_columns_change_case_and_omit_strategy() -> None:
    names = [c.name for c in COLUMNS if c.name != "strategy"][::-1]
    header = ",".join(n.upper() for n in names)
    row = ",".join(GOOD[n] for n in names)
    valid, errors = parse_intake(csv_text(row, header=header), as_of=AS_OF)
    assert errors == [] and valid[0][1].account.account_no == GOOD["account_no"]


def test_bom_and_crlf_are_accepted() -> None:
    text = "\ufeff" + csv_text(line()).replace("\n", "\r\n")
    valid, errors = parse_intake(text, as_of=AS_OF)
    assert errors == [] and len(valid) == 1


def test_row_numbers_are_what_a_spreadsheet_shows() -> None:
    text = csv_text(line(customer_name='"Li\nNa"'), "", line(account_no="CC000000002", mobile="x"))
    valid, errors = parse_intake(text, as_of=AS_OF)
    assert valid[0][0] == 2 and valid[0][1].customer_name == "Li\nNa"
    assert [(e.row, e.field) for e in errors] == [(4, "mobile")]  # the blank line is row 3


def test_strategy_defaults_and_known_names() -> None:
    text = csv_text(line(), line(account_no="CC000000002", strategy="demo"))
    valid, _ = parse_intake(text, as_of=AS_OF, default_strategy="default")
    assert [c.strategy_version for _, c in valid] == ["default", "demo"]
    text = csv_text(line(strategy="aggressive"))
    _, errors = parse_intake(text, as_of=AS_OF, strategies={"default", "demo"})
    assert [(e.row, e.field) for e in errors] == [(2, "strategy")]


def test_values_are_normalised() -> None:
    row = line(language="ZH-cn", currency="cny", mobile=f" {MOBILE} ")
    [(_, case)] = parse_intake(csv_text(row), as_of=AS_OF).valid
    assert case.contact.language is Language.ZH_CN
    assert case.account.currency == "CNY"
    assert case.contact.mobile == MOBILE


def test_reasons_never_quote_personal_data() -> None:
    # A shifted row puts the name and number into other columns: still never echoed.
    shifted = line(time_zone=NAME, language=MOBILE, currency=NAME, product=NAME, mobile=NAME)
    _, errors = parse_intake(csv_text(shifted, line(mobile=MOBILE + " 9")), as_of=AS_OF)
    assert errors
    for e in errors:
        assert NAME not in e.reason and "13800000001" not in e.reason


def test_the_errors_example_has_one_of_each_kind() -> None:
    text = (EXAMPLES / "overdue-with-errors.csv").read_text(encoding="utf-8")
    valid, errors = parse_intake(text, as_of=AS_OF, strategies={"default", "demo"})
    assert [row for row, _ in valid] == [2, 18, 19]
    assert [(e.row, e.field) for e in errors] == [
        (3, "customer_ref"),
        (4, "mobile"),
        (5, "language"),
        (6, "time_zone"),
        (7, "outstanding_minor"),
        (8, "overdue_minor"),
        (9, "overdue_minor"),
        (10, "outstanding_minor"),
        (11, "currency"),
        (12, "oldest_due_date"),
        (13, "oldest_due_date"),
        (14, "account_no"),
        (15, "account_no"),
        (16, "columns"),
        (17, "strategy"),
    ]


@pytest.mark.parametrize("as_of", [SAMPLE_AS_OF, max(date.today(), SAMPLE_AS_OF)])
def test_the_sample_file_parses_without_errors(as_of: date) -> None:
    path: Path = EXAMPLES / "overdue-sample.csv"
    valid, errors = parse_intake(path.read_text(encoding="utf-8"), as_of=as_of)
    assert errors == []
    assert len(valid) == 300
    days = {(SAMPLE_AS_OF - case.account.oldest_due_date).days for _, case in valid}
    assert min(days) >= 1 and max(days) <= 120


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"outstanding_minor": "-1"}, "outstanding_minor", "must not be negative"),
        ({"overdue_minor": "-1"}, "overdue_minor", "must not be negative"),
        ({"oldest_due_date": "2026-11-29"}, "oldest_due_date", "in the future"),
    ],
)
def test_one_past_each_bound_is_refused(changes: dict[str, str], field: str, reason: str) -> None:
    _, errors = parse_intake(csv_text(line(**changes)), as_of=AS_OF)
    assert [(e.row, e.field) for e in errors] == [(2, field)]
    assert reason in errors[0].reason


@pytest.mark.parametrize(
    "changes",
    [
        {"oldest_due_date": AS_OF.isoformat()},  # due today: taken, 0 days past due
        {"overdue_minor": "0"},  # no arrears yet
        {"overdue_minor": "5000000"},  # arrears equal to the whole balance
        {"outstanding_minor": "1", "overdue_minor": "1"},
        {"account_no": "A" * 6},
        {"account_no": "A" * 34},
    ],
)
def test_each_bound_itself_is_taken(changes: dict[str, str]) -> None:
    valid, errors = parse_intake(csv_text(line(**changes)), as_of=AS_OF)
    assert errors == [] and [row for row, _ in valid] == [2]


def test_a_header_with_an_error_rejects_the_file_and_names_row_one() -> None:
    header = HEADER.replace("mobile", "mobil")
    parsed = parse_intake(csv_text(line(), header=header), as_of=AS_OF)
    assert parsed.valid == [] and parsed.file_error
    assert [(e.row, e.field) for e in parsed.errors] == [(1, "header")]
    assert "missing column(s): mobile" in parsed.errors[0].reason


NOT_IN_PLAN = "mobile is E.164 in form but not a number its country code can assign"
NOT_E164 = "mobile is not E.164 (+ and 8 to 15 digits, no spaces)"


@pytest.mark.parametrize(
    ("mobile", "reason"),
    [
        ("+8612345678901", NOT_IN_PLAN),  # China has no numbers beginning 12
        ("+861380013800", NOT_IN_PLAN),  # a mainland mobile one digit short
        ("+15551234567", NOT_IN_PLAN),  # North America has no area code 555
        ("+99912345678", NOT_IN_PLAN),  # no country has the code 999
        ("+4407911123456", NOT_IN_PLAN),  # the trunk zero written after the country code
        ("+4702000", NOT_E164),  # a Norwegian service number, but shorter than 8 digits
        ("+4980012345678901", NOT_E164),  # 16 digits
    ],
)
def test_a_mobile_must_be_a_number_its_country_can_assign(mobile: str, reason: str) -> None:
    parsed = parse_intake(csv_text(line(mobile=mobile)), as_of=AS_OF)
    assert parsed.valid == []
    assert [(e.row, e.field, e.reason) for e in parsed.errors] == [(2, "mobile", reason)]
    assert mobile.removeprefix("+") not in parsed.errors[0].reason


@pytest.mark.parametrize(
    "mobile",
    [
        "+29051234",  # St Helena: 8 digits, the shortest form taken
        "+498001234567890",  # a German freephone number: 15 digits, the longest
        "+12125550123",  # New York's 555-01XX, kept for fiction, is a valid number
        "+447700900000",  # Ofcom's drama range, used by the examples: first ...
        "+447700900999",  # ... and last
    ],
)
def test_a_mobile_at_the_edges_of_the_form_or_of_fiction_is_taken(mobile: str) -> None:
    parsed = parse_intake(csv_text(line(mobile=mobile)), as_of=AS_OF)
    assert parsed.errors == []
    assert [case.contact.mobile for _, case in parsed.valid] == [mobile]
