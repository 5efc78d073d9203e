"""One page of a long list, and the order that makes pages of it: the column asked for, then the
row's id in the same direction, so equal values never trade places between two pages and the
opposite direction is the exact reverse."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, asc, case, desc
from sqlalchemy.orm import Mapped
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

T = TypeVar("T")
Q = TypeVar("Q", bound=SelectOfScalar[Any])
# A table's column (`col(Row.field)`) or an expression over columns.
Column = ColumnElement[Any] | Mapped[Any]


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    total: int  # rows matching the filters, on every page
    number: int  # from 1
    size: int

    @property
    def pages(self) -> int:
        """How many pages the total makes; an empty list is one (empty) page."""
        return max(1, -(-self.total // self.size))


async def page_of(
    session: AsyncSession,
    counted: SelectOfScalar[int],
    rows: SelectOfScalar[T],
    *,
    page: int,
    per_page: int,
) -> Page[T]:
    """Page `page` (from 1) of `rows` (filtered and ordered), with `counted`'s total; a page
    past the last is empty, and no offset past the end, however large, reaches the database."""
    total = (await session.exec(counted)).one()
    offset = (page - 1) * per_page
    found = list(await session.exec(rows.limit(per_page).offset(offset))) if offset < total else []
    return Page(found, total, page, per_page)


def ordered(query: Q, key: Column, tie: Column, *, descending: bool) -> Q:
    """`query` ordered by `key`, then by `tie` (a unique column) in the same direction."""
    if descending:
        return query.order_by(desc(key), desc(tie))
    return query.order_by(asc(key), asc(tie))


def in_order_of(column: Column, values: Sequence[str]) -> ColumnElement[int]:
    """A code's place in `values` (an enum's order: a case's stages as it moves through
    them), a value not listed after them all; not the codes' spelling, nor a language's."""
    return case({value: n for n, value in enumerate(values)}, value=column, else_=len(values))
