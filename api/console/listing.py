"""A long list's page, order and links: `page`, `per_page`, `sort` and `order` read from the query
string, and every link of the page (a column's header, previous, next) made with the list's
filters kept, so paging and sorting never lose what was searched.

A column's first click sorts it the way a collector reads it first (the most days past due, the
soonest deadline); a click on the column already sorted turns it round.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from api.console.forms import FormError
from readmodel.queries import Page

PER_PAGE = 50
MAX_PER_PAGE = 200
ORDERS = {"asc": False, "desc": True}

S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True)
class Columns(Generic[S]):
    """A list's sortable columns (a `StrEnum` of the names the query string gives them), the
    one it is sorted by when none is asked, and those first sorted from the top down."""

    default: S
    descending_first: frozenset[S]

    def read(self, query: Mapping[str, str]) -> Listing[S]:
        """The page, its size and order `query` asks for; `FormError` naming the field for a
        value that cannot be one, which the console shows instead of the list."""
        page = _whole(query.get("page", ""), "page", blank=1)
        if page < 1:
            raise FormError("page", "not_a_page")
        per_page = _whole(query.get("per_page", ""), "per_page", blank=PER_PAGE)
        if per_page < 1:
            raise FormError("per_page", f"1–{MAX_PER_PAGE}")
        # More than the most is clamped, not refused: who asks for 10,000 wants all there can be.
        per_page = min(per_page, MAX_PER_PAGE)
        sorts = type(self.default)
        named = query.get("sort", "").strip() or self.default.value
        if named not in sorts.__members__.values():
            raise FormError("sort", "not_a_column")
        sort = sorts(named)
        order = query.get("order", "").strip()
        if order and order not in ORDERS:
            raise FormError("order", "not_an_order")
        descending = ORDERS[order] if order else sort in self.descending_first
        return Listing(self, page, per_page, sort, descending)


@dataclass(frozen=True)
class Listing(Generic[S]):
    columns: Columns[S]
    page: int
    per_page: int
    sort: S
    descending: bool


def _whole(raw: str, field: str, *, blank: int) -> int:
    text = raw.strip()
    if not text:
        return blank
    # Nine digits are past the end of any list; more would only cost the parsing.
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise FormError(field, "not_a_page" if field == "page" else "not_a_number")
    return int(text)


@dataclass(frozen=True)
class Header:
    url: str
    sorted: str  # aria-sort's value: ascending, descending or none


@dataclass(frozen=True)
class Pager:
    """What a list's template draws: the page's place, its links, each sortable header's."""

    number: int
    pages: int
    total: int
    per_page: int
    previous: str | None
    next: str | None
    headers: dict[str, Header]
    kept: dict[str, str]  # the filters, size and order, for the list's own forms to carry


def pager(path: str, filters: Mapping[str, str], listing: Listing[S], found: Page[Any]) -> Pager:
    # Only what differs from the list's defaults, so the plain list keeps its plain address.
    kept = {k: v for k, v in filters.items() if v}
    if listing.sort is not listing.columns.default:
        kept["sort"] = listing.sort.value
    if listing.descending != (listing.sort in listing.columns.descending_first):
        kept["order"] = "desc" if listing.descending else "asc"
    if listing.per_page != PER_PAGE:
        kept["per_page"] = str(listing.per_page)

    def to(**changes: str | int) -> str:
        return f"{path}?{urlencode(kept | {k: str(v) for k, v in changes.items()})}"

    headers = {}
    for column in type(listing.sort):
        if column is listing.sort:
            turned = "asc" if listing.descending else "desc"
            state = "descending" if listing.descending else "ascending"
            headers[column.value] = Header(to(order=turned), state)
        else:
            first = "desc" if column in listing.columns.descending_first else "asc"
            headers[column.value] = Header(to(sort=column.value, order=first), "none")
    number, pages = listing.page, found.pages
    return Pager(
        number=number,
        pages=pages,
        total=found.total,
        per_page=listing.per_page,
        # Past the end, "previous" is the last page: a link kept while the list shrank.
        previous=to(page=min(number - 1, pages)) if number > 1 else None,
        next=to(page=number + 1) if number < pages else None,
        headers=headers,
        kept=kept,
    )
