"""Bad input, at scale, for the daily file: hypothesis writes whole CSV texts (headers with
columns missing, repeated, renamed, padded or unknown; cells of any text, numbers past int64,
floats, dates in odd forms, quotes, line breaks, NULs, a BOM) and `parse_intake` must take
each of them without raising: every row it reads ends up once, valid or with its errors; a
valid row holds what a case needs; and no reason depends on a customer's name or number.

Row numbers are checked against `csv.reader`'s records, which is what a spreadsheet shows.
"""

from __future__ import annotations

import csv
import io
import re
import zoneinfo
from dataclasses import dataclass
from datetime import date, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from models.contracts import Language, text_problem
from models.intake import (
    CURRENCIES,
    KNOWN,
    MAX_CELL,
    MAX_MINOR,
    REQUIRED,
    ParsedIntake,
    parse_intake,
)
from temporal.client import data_converter

BOM = "\ufeff"
ORDER = (*REQUIRED, "strategy")
STRATEGIES = frozenset({"default", "demo"})
ROW_FIELDS = KNOWN | {"columns", "file"}
E164 = re.compile(r"\+[1-9][0-9]{7,14}")
ACCOUNT_NO = re.compile(r"[A-Za-z0-9]{6,34}")

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- cells ---------------------------------------------------------------------------------

# NUL, BOM, quotes, the delimiter, line breaks, and spaces str.strip() does and does not strip.
NASTY = "\x00\ufeff\"',;\r\n\t \u00a0\u2028\u3000\u200b"
# Any text, lone surrogates too: a file cannot hold them, but a JSON body (POST /cases) can.
junk = st.text(st.one_of(st.characters(), st.sampled_from(NASTY)), max_size=24)


LEFT = st.sampled_from(["", "", " ", "\t"])  # how a spreadsheet may pad a value
RIGHT = st.sampled_from(["", "", " "])
ODD_DATES = st.one_of(
    st.builds(
        date.strftime,
        st.dates(),
        st.sampled_from(["%Y/%m/%d", "%d-%m-%Y", "%Y%m%d", "%d.%m.%Y", "%b %d %Y", "%Y-%m-%dT00"]),
    ),
    st.sampled_from(
        ["2024-02-30", "2023-02-29", "0000-01-01", "9999-12-31", "2024-1-2", "2024-13-01"]
    ),
    st.just("２０２４-０１-０１"),  # fullwidth digits
    st.dates().map(date.isoformat),
    junk,
)
AMOUNTS = st.one_of(
    st.sampled_from(["0", "-0", "000", "-1"]),
    st.integers(-(10**6), 10**12).map(str),
    st.integers(-(2**70), 2**70).map(str),  # past int64 both ways
    st.integers(4_000, 5_000).map("9".__mul__),  # past what int() converts (4300 digits)
    st.sampled_from([str(MAX_MINOR), str(MAX_MINOR + 1), "0", "-0", "00012", "+5", "1e5", "1_0"]),
    st.sampled_from(["１２", "٣", "0x1F", "NaN", "inf", "12.50", "-3.0", "1,000"]),
    st.floats().map(repr),
    junk,
)
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

# Per column: values that pass, drawn as widely as the file allows ...
text = st.text(st.one_of(st.characters(codec="utf-8"), st.sampled_from(NASTY)), max_size=24)
GOOD: dict[str, st.SearchStrategy[str]] = {
    "account_no": st.one_of(
        st.text(ALNUM, min_size=6, max_size=34),
        st.sampled_from(["ACC000001", "ACC000002", "acc000001"]),  # repeats within a file
    ),
    "customer_ref": st.one_of(st.just("CUST0001"), text.filter(str.strip)),
    "customer_name": st.one_of(st.sampled_from(["张伟", "O'Brien, Ann"]), text.filter(str.strip)),
    "mobile": st.one_of(
        st.builds(
            "+86{}{:08d}".format,
            st.sampled_from(["138", "139", "150", "186"]),
            st.integers(0, 10**8 - 1),
        ),
        st.integers(0, 999).map("+447700900{:03d}".format),  # Ofcom's drama range
        st.integers(100, 199).map("+1212555{:04d}".format),  # New York's 555-01XX
    ),
    "language": st.sampled_from(["en", "zh-CN", "ZH-cn", "EN", "zh-cn"]),
    "time_zone": st.sampled_from(["Asia/Shanghai", "America/New_York", "UTC", "Etc/GMT+5"]),
    "product": st.one_of(st.sampled_from(["card", "auto_loan"]), text.filter(str.strip)),
    "currency": st.sampled_from(["CNY", "usd", "Eur", "JPY", "KWD"]),
}
# ... and values just off, or junk.
BAD: dict[str, st.SearchStrategy[str]] = {
    "account_no": st.one_of(st.sampled_from(["ACC00", "ACC-000001", "Ａ" * 8, "A" * 35]), junk),
    "customer_ref": st.sampled_from(["", " ", "\t"]),
    "customer_name": st.sampled_from(["", " ", "\u3000"]),
    "mobile": st.one_of(
        st.sampled_from(
            [
                *("+86 138 0013 8000", "8613800138000", "+0123456789", "+12345678901234567"),
                # E.164 in form, but no number its country can assign
                *("+8612345678901", "+15551234567", "+4407911123456", "+99912345678"),
            ]
        ),
        st.just("+８６１３８００１３８０００"),
        junk,
    ),
    "language": st.one_of(st.sampled_from(["zh", "fr", "zh_CN", "english"]), junk),
    "time_zone": st.one_of(
        st.sampled_from(["asia/shanghai", "Mars/Olympus", "../../etc/passwd", "localtime"]), junk
    ),
    "product": st.sampled_from(["", " "]),
    "currency": st.one_of(st.sampled_from(["XXX", "XAU", "BTC", "CN", "US D"]), junk),
    "outstanding_minor": AMOUNTS,
    "overdue_minor": AMOUNTS,
    "oldest_due_date": ODD_DATES,
    "strategy": st.one_of(st.sampled_from(["nope", "../default", "a" * 65]), junk),
}
DAYS_BACK = st.one_of(st.integers(0, 40), st.integers(0, 20_000))
PERCENT = st.sampled_from([0, 1, 50, 99, 100])
POLICY = {
    None: st.sampled_from(["", "default", "any-name"]),
    STRATEGIES: st.sampled_from(["", *sorted(STRATEGIES)]),
}


@st.composite
def good_row(draw: st.DrawFn, as_of: date, strategies: frozenset[str] | None) -> dict[str, str]:
    """A row that passes."""
    outstanding = draw(st.one_of(st.integers(1, 10**9), st.integers(1, MAX_MINOR)))
    due = as_of - timedelta(days=draw(DAYS_BACK))
    return {
        **{name: draw(cells) for name, cells in GOOD.items()},
        "outstanding_minor": str(outstanding),
        "overdue_minor": str(outstanding * draw(PERCENT) // 100),
        "oldest_due_date": due.isoformat(),
        "strategy": draw(POLICY[strategies]),
    }


def bad_cell(draw: st.DrawFn, name: str, as_of: date) -> str:
    if name == "oldest_due_date" and draw(st.booleans()):
        ahead = draw(st.one_of(st.just(1), st.integers(1, 3650)))
        return (as_of + timedelta(days=ahead)).isoformat()  # in the future
    return draw(BAD[name])


# --- files ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeFile:
    text: str
    as_of: date
    default_strategy: str
    strategies: frozenset[str] | None
    records: list[list[str]]  # what csv.reader makes of `text`: row n is records[n - 1]


def spelled(draw: st.DrawFn, name: str) -> str:
    """A known column as a spreadsheet may title it: any case, padded."""
    title = draw(st.sampled_from([name, name.upper(), name.title()]))
    return f"{draw(LEFT)}{title}{draw(RIGHT)}"


@st.composite
def headers(draw: st.DrawFn) -> list[str]:
    shape = draw(st.sampled_from(["complete"] * 14 + ["subset", "repeated"]))
    names = list(ORDER) if shape != "subset" else draw(st.lists(st.sampled_from(ORDER)))
    if shape == "complete" and draw(st.booleans()):
        names.remove("strategy")
    if shape == "repeated":
        names.append(draw(st.sampled_from(ORDER)))
    titles = [spelled(draw, name) for name in names]
    titles += draw(st.lists(st.one_of(st.just("notes"), junk), max_size=2))  # unknown columns
    titles = list(draw(st.permutations(titles)))
    return titles + draw(st.sampled_from([[], [""], ["", " "]]))  # a spreadsheet's stray commas


@st.composite
def rows_for(
    draw: st.DrawFn, header: list[str], as_of: date, strategies: frozenset[str] | None
) -> list[str]:
    """Mostly good rows with a few bad cells; now and then too short, too long or blank."""
    good = draw(good_row(as_of, strategies))
    bad = draw(
        st.one_of(
            st.just(set()),
            st.sampled_from(ORDER).map(lambda name: {name}),
            st.sets(st.sampled_from(ORDER), max_size=3),
        )
    )
    row = []
    for title in header:
        name = title.strip().lower()
        if not name:  # under a stray comma: blank, or the row is a column too long
            row.append(draw(st.sampled_from(["", "", " ", "extra"])))
        elif name not in good:
            row.append(draw(junk))
        elif name in bad:
            row.append(bad_cell(draw, name, as_of))
        else:
            row.append(f"{draw(LEFT)}{good[name]}{draw(RIGHT)}")
    shape = draw(st.sampled_from(["as is"] * 12 + ["short", "long", "blank", "empty"]))
    if shape == "short":
        return row[: draw(st.integers(0, max(0, len(row) - 1)))]
    if shape == "long":
        return row + draw(st.lists(st.sampled_from(["", " ", "extra"]), min_size=1, max_size=3))
    if shape == "blank":
        return [draw(st.sampled_from(["", " ", "\t"])) for _ in row]
    if shape == "empty":
        return []
    return row


@st.composite
def intake_files(draw: st.DrawFn) -> IntakeFile:
    as_of = draw(st.dates(date(2000, 1, 1), date(2100, 12, 31)))
    strategies = draw(st.sampled_from([None, STRATEGIES]))
    header = draw(headers())
    rows = [header, *draw(st.lists(rows_for(header, as_of, strategies), max_size=8))]
    out = io.StringIO()
    writer = csv.writer(
        out,
        lineterminator=draw(st.sampled_from(["\r\n", "\n", "\r"])),
        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
    )
    writer.writerows(rows)
    text = out.getvalue()
    if draw(st.booleans()):
        text = text.rstrip("\r\n")  # no line break after the last row
    if draw(st.booleans()):
        text = BOM + text
    return IntakeFile(
        text=text,
        as_of=as_of,
        default_strategy=draw(st.sampled_from(["", "default", "nope"])),
        strategies=strategies,
        records=read_records(text),
    )


def read_records(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix(BOM), newline="")))


def write_records(records: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(records)
    return out.getvalue()


def parse(file: IntakeFile, text: str | None = None) -> ParsedIntake:
    return parse_intake(
        file.text if text is None else text,
        as_of=file.as_of,
        default_strategy=file.default_strategy,
        strategies=file.strategies,
    )


# --- what must hold ------------------------------------------------------------------------


def header_problems(header: list[str] | None) -> bool:
    names = [c.strip().lower() for c in header or []]
    known = [n for n in names if n in KNOWN]
    missing = set(REQUIRED) - set(known)
    return not any(names) or bool(missing) or len(known) != len(set(known))


def first_index(header: list[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, title in enumerate(header):
        index.setdefault(title.strip().lower(), i)
    return index


def check_accounting(file: IntakeFile, parsed: ParsedIntake) -> None:
    """Every row read is either blank (counted, nothing said), valid, or rejected, once."""
    header = file.records[0] if file.records else None
    assert parsed.file_error == header_problems(header)
    if parsed.file_error:
        assert parsed.valid == []
        assert all((e.row, e.field) == (1, "header") for e in parsed.errors)
        return
    assert header is not None
    width = max(i for i, title in enumerate(header) if title.strip()) + 1
    valid_rows = [row for row, _ in parsed.valid]
    assert valid_rows == sorted(set(valid_rows))
    rejected = set(parsed.rejected_rows)
    data_rows = set(range(2, len(file.records) + 1))
    assert rejected <= data_rows
    assert all(e.field in ROW_FIELDS and e.reason.strip() for e in parsed.errors)
    for row in data_rows:
        cells = file.records[row - 1]
        is_valid, is_rejected = row in valid_rows, row in rejected
        if not any(c.strip() for c in cells):
            assert not is_valid and not is_rejected, f"blank row {row}"
            continue
        assert is_valid != is_rejected, f"row {row}: valid={is_valid} rejected={is_rejected}"
        if len(cells) < width or any(c.strip() for c in cells[width:]):
            assert [e.field for e in parsed.errors if e.row == row] == ["columns"]


def check_valid_rows(file: IntakeFile, parsed: ParsedIntake) -> None:
    """A valid row is what the file says, and what a case needs."""
    if not parsed.valid:
        return
    index = first_index(file.records[0])
    accounts = [case.account.account_no for _, case in parsed.valid]
    assert len(accounts) == len(set(accounts))
    zones = zoneinfo.available_timezones()
    for row, case in parsed.valid:
        cells = file.records[row - 1]

        def cell(name: str, cells: list[str] = cells) -> str:
            return cells[index[name]].strip() if name in index else ""

        account, contact = case.account, case.contact
        assert account.account_no == cell("account_no")
        assert ACCOUNT_NO.fullmatch(account.account_no)
        assert case.customer_ref == cell("customer_ref") != ""
        assert case.customer_name == cell("customer_name") != ""
        assert account.product == cell("product") != ""
        assert contact.mobile == cell("mobile")
        assert E164.fullmatch(contact.mobile)
        assert isinstance(contact.language, Language)
        assert contact.language.value.lower() == cell("language").lower()
        assert contact.time_zone == cell("time_zone") in zones
        zoneinfo.ZoneInfo(contact.time_zone)
        assert account.currency == cell("currency").upper()
        assert account.currency in CURRENCIES
        assert 0 < account.outstanding_minor <= MAX_MINOR
        assert 0 <= account.overdue_minor <= account.outstanding_minor
        assert account.outstanding_minor == int(cell("outstanding_minor"))
        assert account.overdue_minor == int(cell("overdue_minor"))
        assert account.oldest_due_date <= file.as_of
        assert account.oldest_due_date.isoformat() == cell("oldest_due_date")
        # Text PostgreSQL stores and a payload carries: no NUL or other control character, no
        # lone surrogate, nothing past a cell's length.
        for value in (case.customer_ref, case.customer_name, account.product, contact.mobile):
            assert text_problem(value) is None and len(value) <= MAX_CELL
        assert case.strategy_version == (cell("strategy") or file.default_strategy)
        if file.strategies is not None and case.strategy_version:
            assert case.strategy_version in file.strategies
        # What the API and the CLI do next with it: start a workflow with it as its input.
        data_converter().payload_converter.to_payloads([case])


def is_text(value: str) -> bool:
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def masked(file: IntakeFile, parsed: ParsedIntake) -> str:
    """The same file with every name and mobile replaced by another of the same kind (blank,
    a valid number, one of E.164's form its country cannot assign, not text, something else):
    the reasons must not change."""
    index = first_index(file.records[0])
    mobile_reasons = {e.row: e.reason for e in parsed.errors if e.field == "mobile"}
    records = [list(cells) for cells in file.records]
    for n, cells in enumerate(records[1:], start=2):
        for name, i in [
            ("customer_name", index.get("customer_name")),
            ("mobile", index.get("mobile")),
        ]:
            if i is None or i >= len(cells) or not cells[i].strip():
                continue
            value = cells[i].strip()
            if not is_text(value):
                cells[i] = f"\ud800 {n}"
            elif text_problem(value):
                cells[i] = f"\x00 {n}"
            elif len(value) > MAX_CELL:
                cells[i] = "N" * (MAX_CELL + 1)
            elif name == "mobile" and n not in mobile_reasons:
                cells[i] = f"+447700900{n % 1000:03d}"
            elif name == "mobile":
                cells[i] = f"+1555{n:07d}" if E164.fullmatch(value) else f"no. {n}"
            else:
                cells[i] = f"Name {n}"
    return write_records(records)


def check_privacy(file: IntakeFile, parsed: ParsedIntake) -> None:
    if not file.records or parsed.file_error:
        return
    other = parse(file, masked(file, parsed))
    assert other.errors == parsed.errors
    assert [row for row, _ in other.valid] == [row for row, _ in parsed.valid]


def check(file: IntakeFile) -> ParsedIntake:
    parsed = parse(file)
    check_accounting(file, parsed)
    check_valid_rows(file, parsed)
    check_privacy(file, parsed)
    return parsed


# --- the tests -----------------------------------------------------------------------------

GOOD_ROW = {
    "account_no": "ACC000001",
    "customer_ref": "CUST0001",
    "customer_name": "张伟",
    "mobile": "+8613800138000",
    "language": "zh-CN",
    "time_zone": "Asia/Shanghai",
    "product": "card",
    "currency": "CNY",
    "outstanding_minor": "500000",
    "overdue_minor": "120000",
    "oldest_due_date": "2026-01-02",
    "strategy": "",
}


def one_row_file(**changes: str) -> IntakeFile:
    row = {**GOOD_ROW, **changes}
    text = write_records([list(row), list(row.values())])
    return IntakeFile(text, date(2026, 2, 1), "", None, read_records(text))


@FUZZ
@example(one_row_file())
@example(one_row_file(customer_name='"Zhang, Wei"\r\nline two', mobile=" +8613800138000\t"))
@example(one_row_file(outstanding_minor=str(MAX_MINOR + 1), overdue_minor="-1"))
@example(one_row_file(outstanding_minor="0", overdue_minor="0"))
@example(one_row_file(overdue_minor="500001"))
@example(one_row_file(oldest_due_date="2026-02-02"))  # the day after the intake date
@example(one_row_file(oldest_due_date="2026-02-01", overdue_minor="500000"))  # both at the limit
@given(intake_files())
def test_every_row_of_any_file_is_valid_or_rejected_once(file: IntakeFile) -> None:
    check(file)


@FUZZ
@given(
    text=st.text(st.one_of(st.characters(), st.sampled_from(',"\r\n' + NASTY)), max_size=300),
    as_of=st.dates(),
)
def test_any_text_at_all_is_taken_without_raising(text: str, as_of: date) -> None:
    """Not CSV the generator would write: unbalanced quotes, text after a closing quote ..."""
    parsed = parse_intake(text, as_of=as_of)
    records = read_records(text)
    check_accounting(IntakeFile(text, as_of, "", None, records), parsed)


def test_a_cell_past_the_csv_field_limit_stops_the_file_there_with_one_error() -> None:
    good = one_row_file()
    huge = {**GOOD_ROW, "account_no": "ACC000002", "customer_name": "x" * 200_000}
    text = good.text + write_records([list(huge.values()), list(GOOD_ROW.values())])
    parsed = parse_intake(text, as_of=good.as_of)
    assert [row for row, _ in parsed.valid] == [2]
    [error] = parsed.errors
    assert (error.row, error.field) == (3, "file")
    assert "x" * 20 not in error.reason


# --- found by the tests above ----------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@example(digits=4301, sign="")
@given(digits=st.integers(4301, 20_000), sign=st.sampled_from(["", "-", "0"]))
def test_an_amount_of_thousands_of_digits_is_an_error_not_a_crash(digits: int, sign: str) -> None:
    file = one_row_file(outstanding_minor=sign + "1" * digits)
    parsed = check(file)
    assert [e.field for e in parsed.errors] == ["outstanding_minor"]


@settings(max_examples=20, deadline=None)
@example(column="customer_name", surrogate="\ud800")
@given(
    column=st.sampled_from(["customer_name", "customer_ref", "product"]),
    surrogate=st.characters(categories=["Cs"]),
)
def test_a_row_with_a_lone_surrogate_is_rejected_not_left_unstartable(
    column: str, surrogate: str
) -> None:
    parsed = check(one_row_file(**{column: f"x{surrogate}y"}))
    assert [e.field for e in parsed.errors] == [column]


@settings(max_examples=20, deadline=None)
@example(column="customer_name", control="\x00")
@given(
    column=st.sampled_from(["customer_name", "customer_ref", "product"]),
    control=st.sampled_from([chr(c) for c in (*range(0x20), 0x7F) if chr(c) not in "\t\n\r"]),
)
def test_a_row_with_a_control_character_is_rejected_not_left_unwritable(
    column: str, control: str
) -> None:
    """PostgreSQL refuses NUL in text: such a row would fail the case's write on every retry."""
    parsed = check(one_row_file(**{column: f"Wei{control}Zhang"}))
    assert [(e.field, e.reason) for e in parsed.errors] == [(column, "holds a control character")]
    assert "Wei" not in str(parsed.errors)  # the value itself is not echoed


def test_a_cell_past_its_length_is_rejected_and_one_at_it_is_taken() -> None:
    at, past = "N" * MAX_CELL, "N" * (MAX_CELL + 1)
    assert [c.customer_name for _, c in check(one_row_file(customer_name=at)).valid] == [at]
    parsed = check(one_row_file(customer_name=past))
    assert [(e.field, e.reason) for e in parsed.errors] == [
        ("customer_name", f"is longer than {MAX_CELL} characters")
    ]
