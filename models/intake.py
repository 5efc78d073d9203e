"""The daily overdue file: CSV text in, `CaseInput`s and row-numbered errors out.

Row numbers are what a spreadsheet shows: the header is row 1, a blank line still counts, and a
quoted cell with a line break stays in its row. Every row is checked in full, so one pass shows
everything to fix; the good rows go ahead regardless of the bad ones.

Error reasons never repeat a cell's value: a shifted column can put a phone number or a name
into any field, and these messages end up in terminals, logs and API answers.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import zoneinfo
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

import phonenumbers

from models.contracts import MAX_MINOR, Account, CaseInput, ContactPoints, Language, text_problem


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    description: str


COLUMNS = (
    Column("account_no", True, "the bank's account number: 6 to 34 letters and digits; unique"),
    Column("customer_ref", True, "the bank's customer number"),
    Column("customer_name", True, "as messages and collectors address the customer"),
    Column(
        "mobile",
        True,
        "E.164: `+`, then 8 to 15 digits, no spaces (`+8613800138000`); a number its country"
        " can assign",
    ),
    Column("language", True, "`zh-CN` or `en`"),
    Column("time_zone", True, "IANA name, e.g. `Asia/Shanghai`; contact windows use it"),
    Column("product", True, "e.g. `card`, `personal_loan`, `auto_loan`"),
    Column("currency", True, "ISO 4217 code, e.g. `CNY`"),
    Column("outstanding_minor", True, "whole balance in minor units (fen, cents); above 0"),
    Column("overdue_minor", True, "arrears in minor units; 0 to outstanding_minor"),
    Column("oldest_due_date", True, "`YYYY-MM-DD`, not after the intake date; sets days past due"),
    Column("strategy", False, "a policy name under config/policies; blank: the default"),
)
REQUIRED = tuple(c.name for c in COLUMNS if c.required)
KNOWN = frozenset(c.name for c in COLUMNS)

HEADER_ROW = 1

# Active ISO 4217 codes, without funds, metals and testing codes.
_ISO_4217 = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR
    ZMW ZWG
"""
CURRENCIES = frozenset(_ISO_4217.split())
LANGUAGES = {language.value.lower(): language for language in Language}

_E164 = re.compile(r"\+[1-9][0-9]{7,14}")
# Ofcom keeps 07700 900000 to 900999 for drama, so no one can be texted on them: the examples,
# the demo and the tests use them, though libphonenumber rightly calls them unassigned.
_FICTION = re.compile(r"\+447700900[0-9]{3}")
NOT_E164 = "mobile is not E.164 (+ and 8 to 15 digits, no spaces)"
NOT_IN_PLAN = "mobile is E.164 in form but not a number its country code can assign"
_ACCOUNT_NO = re.compile(r"[A-Za-z0-9]{6,34}")
_INTEGER = re.compile(r"-?[0-9]+")
MAX_CELL = 200  # characters in one cell: names and references, never prose
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_POLICY_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")

_Fail = Callable[[str, str], None]


@dataclass(frozen=True)
class RowError:
    row: int  # as a spreadsheet numbers it: the header is row 1
    field: str  # a column name, or `header` / `columns` / `file` for the row as a whole
    reason: str  # never the cell's value


class ParsedIntake(NamedTuple):
    valid: list[tuple[int, CaseInput]]
    errors: list[RowError]

    @property
    def file_error(self) -> bool:
        """True when the header made the file unusable, so no row was even looked at."""
        return any(e.field == "header" for e in self.errors)

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})


def parse_intake(
    text: str,
    *,
    as_of: date,
    default_strategy: str = "",
    strategies: Collection[str] | None = None,
) -> ParsedIntake:
    """Checks every row of `text`; `as_of` is the intake date (no due date may be after it).

    `default_strategy` fills a blank `strategy` cell. With `strategies`, a strategy must be one
    of those names; without, it need only look like a policy name.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    valid: list[tuple[int, CaseInput]] = []
    errors: list[RowError] = []
    row = 0
    try:
        header = next(reader, None)
        row = HEADER_ROW
        index, header_errors = _header(header)
        if header_errors:
            return ParsedIntake([], header_errors)
        # Trailing blank header cells (a spreadsheet's stray commas) do not count as columns.
        width = max(i for i, name in enumerate(header or []) if name.strip()) + 1
        checker = _RowChecker(index, width, as_of, default_strategy, strategies)
        for cells in reader:
            row += 1
            case, row_errors = checker.check(row, cells)
            errors.extend(row_errors)
            if case is not None:
                valid.append((row, case))
    except csv.Error as exc:
        field = "header" if row == 0 else "file"
        errors.append(RowError(row + 1, field, f"not readable as CSV from here on ({exc})"))
    return ParsedIntake(valid, errors)


def _header(cells: list[str] | None) -> tuple[dict[str, int], list[RowError]]:
    names = [c.strip().lower() for c in cells or []]
    if not any(names):
        return {}, [RowError(HEADER_ROW, "header", "the first row must be the header")]
    index: dict[str, int] = {}
    repeated: set[str] = set()  # a column three times is named once
    for i, name in enumerate(names):
        if name in KNOWN:
            if name in index:
                repeated.add(name)
            index.setdefault(name, i)
    errors = []
    missing = [name for name in REQUIRED if name not in index]
    if missing:
        errors.append(RowError(HEADER_ROW, "header", f"missing column(s): {', '.join(missing)}"))
    if repeated:
        errors.append(
            RowError(HEADER_ROW, "header", f"repeated column(s): {', '.join(sorted(repeated))}")
        )
    if errors:
        return {}, errors
    return index, []


def mobile_problem(mobile: str) -> str | None:
    """Why `mobile` cannot be texted or called, or None; never the number itself."""
    if not _E164.fullmatch(mobile):
        return NOT_E164
    if _FICTION.fullmatch(mobile):
        return None
    try:
        number = phonenumbers.parse(mobile)
    except phonenumbers.NumberParseException:  # no such country code: +999 ...
        return NOT_IN_PLAN
    # The canonical form must be the text itself: "+44 0 7911 ..." with its trunk zero is
    # valid to the library but not a number a provider dials as written.
    canonical = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(number) or canonical != mobile:
        return NOT_IN_PLAN
    return None


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class _RowChecker:
    def __init__(
        self,
        index: dict[str, int],
        width: int,
        as_of: date,
        default_strategy: str,
        strategies: Collection[str] | None,
    ) -> None:
        self._width = width
        self._index = index
        self._as_of = as_of
        self._default_strategy = default_strategy
        self._strategies = strategies
        self._first_seen: dict[str, int] = {}

    def check(self, row: int, cells: list[str]) -> tuple[CaseInput | None, list[RowError]]:
        if not any(c.strip() for c in cells):
            return None, []  # a blank line: counted, not an error
        extra = cells[self._width :]
        if len(cells) < self._width or any(c.strip() for c in extra):
            reason = f"expected {self._width} columns, found {len(cells)}"
            return None, [RowError(row, "columns", reason)]
        values = {name: cells[i].strip() for name, i in self._index.items()}
        errors: list[RowError] = []

        def fail(field: str, reason: str) -> None:
            errors.append(RowError(row, field, reason))

        for name in REQUIRED:
            if not values[name]:
                fail(name, "is missing")
        for name, value in values.items():
            problem = text_problem(value)
            if problem is None and len(value) > MAX_CELL:
                problem = f"is longer than {MAX_CELL} characters"
            if problem is not None:
                fail(name, problem)
                values[name] = ""

        account_no = values["account_no"]
        if account_no:
            if not _ACCOUNT_NO.fullmatch(account_no):
                fail("account_no", "must be 6 to 34 letters and digits")
            elif account_no in self._first_seen:
                fail("account_no", f"duplicate; first on row {self._first_seen[account_no]}")
            else:
                self._first_seen[account_no] = row

        mobile = values["mobile"]
        bad_mobile = mobile_problem(mobile) if mobile else None
        if bad_mobile is not None:
            fail("mobile", bad_mobile)

        language = LANGUAGES.get(values["language"].lower())
        if values["language"] and language is None:
            fail("language", "unknown language (use zh-CN or en)")

        time_zone = values["time_zone"]
        if time_zone and time_zone not in _time_zones():
            fail("time_zone", "unknown time zone (use an IANA name such as Asia/Shanghai)")

        currency = values["currency"].upper()
        if currency and currency not in CURRENCIES:
            fail("currency", "unknown currency (use an ISO 4217 code such as CNY)")

        outstanding = self._amount("outstanding_minor", values, fail)
        overdue = self._amount("overdue_minor", values, fail)
        if outstanding == 0:
            fail("outstanding_minor", "is zero: nothing to collect")
        if outstanding is not None and overdue is not None and overdue > outstanding:
            fail("overdue_minor", "is greater than outstanding_minor")

        due = self._due_date(values["oldest_due_date"], fail)
        strategy = self._strategy(values.get("strategy", ""), fail)

        if errors or language is None or outstanding is None or overdue is None or due is None:
            return None, errors
        case = CaseInput(
            customer_ref=values["customer_ref"],
            customer_name=values["customer_name"],
            contact=ContactPoints(mobile=mobile, language=language, time_zone=time_zone),
            account=Account(
                account_no=account_no,
                product=values["product"],
                currency=currency,
                outstanding_minor=outstanding,
                overdue_minor=overdue,
                oldest_due_date=due,
            ),
            strategy_version=strategy,
        )
        return case, []

    @staticmethod
    def _amount(field: str, values: dict[str, str], fail: _Fail) -> int | None:
        raw = values[field]
        if not raw:
            return None
        if not _INTEGER.fullmatch(raw):
            fail(field, "is not a whole number of minor units")
            return None
        if len(raw.lstrip("-").lstrip("0")) > len(str(MAX_MINOR)):
            fail(field, "is too large")  # before int(): Python refuses very long digit runs
            return None
        amount = int(raw)
        if amount < 0:
            fail(field, "must not be negative")
            return None
        if amount > MAX_MINOR:
            fail(field, "is too large")
            return None
        return amount

    def _due_date(self, raw: str, fail: _Fail) -> date | None:
        if not raw:
            return None
        try:
            due = date.fromisoformat(raw) if _DATE.fullmatch(raw) else None
        except ValueError:
            due = None
        if due is None:
            fail("oldest_due_date", "is not a date in YYYY-MM-DD form")
        elif due > self._as_of:
            fail("oldest_due_date", f"is in the future (after {self._as_of.isoformat()})")
            return None
        return due

    def _strategy(self, raw: str, fail: _Fail) -> str:
        name = raw or self._default_strategy
        if not name:
            return ""
        known = self._strategies
        if (known is None and not _POLICY_NAME.fullmatch(name)) or (
            known is not None and name not in known
        ):
            fail("strategy", "unknown strategy (no policy of that name)")
        return name
