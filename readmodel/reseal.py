"""Sealing the read model again under the newest data key: after a key is added (rotation), and
once after upgrading to sealed columns, to seal what was written in clear before.

Every sealed column (`sealed_columns`) is read raw in batches; a value not sealed under the
newest key is opened (with whichever key sealed it, or as written in clear) and written back,
which seals it anew. Each customer's `mobile_index` is recomputed under the newest key. Safe to
run while the system runs and to run again: a value already current is left alone. Once it has
run, an older key can be retired from `DATA_KEYS` (or `PAYLOAD_KEYS`, when data keys derive
from them and no open case's history still needs it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Text, type_coerce
from sqlmodel import SQLModel, col, select, update

from readmodel import sealing
from readmodel.engine import Database
from readmodel.tables import CustomerRow  # and with it every table's metadata


def sealed_columns() -> list[tuple[Column[Any], sealing.Sealed | sealing.SealedJSON]]:
    """Every sealed column of the read model with its type, found by that type: a column
    added later is resealed without a list to keep."""
    return [
        (column, column.type)
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, sealing.Sealed | sealing.SealedJSON)
    ]


@dataclass
class Resealed:
    values: dict[str, int] = field(default_factory=dict)  # "table.column": values sealed anew
    indexes: int = 0  # customers whose mobile_index was recomputed

    @property
    def total(self) -> int:
        return sum(self.values.values()) + self.indexes


async def reseal(db: Database, *, batch: int = 500) -> Resealed:
    keys = sealing.current()
    done = Resealed()
    for column, sealed in sealed_columns():
        table, name = column.table, column.name
        label = f"{table.name}.{name}"
        done.values[label] = 0
        last = 0
        while True:
            async with db.session() as session:
                rows = (
                    await session.exec(
                        select(table.c.id, type_coerce(column, Text))
                        .where(table.c.id > last)
                        .order_by(table.c.id)
                        .limit(batch)
                    )
                ).all()
                if not rows:
                    break
                for row_id, raw in rows:
                    last = row_id
                    if raw is None or keys.is_current(raw):
                        continue
                    plain: Any = sealed.process_result_value(raw, db.engine.dialect)
                    await session.exec(
                        update(table).where(table.c.id == row_id).values({name: plain})
                    )
                    done.values[label] += 1
    done.indexes = await _reindex(db, keys, batch)
    return done


async def _reindex(db: Database, keys: sealing.DataKeys, batch: int) -> int:
    changed, last = 0, 0
    while True:
        async with db.session() as session:
            rows = (
                await session.exec(
                    select(CustomerRow)
                    .where(col(CustomerRow.id) > last)
                    .order_by(col(CustomerRow.id))
                    .limit(batch)
                )
            ).all()
            if not rows:
                return changed
            for customer in rows:
                assert customer.id is not None
                last = customer.id
                index = keys.index(customer.mobile) if customer.mobile else None
                if customer.mobile_index != index:
                    await session.exec(
                        update(CustomerRow)
                        .where(col(CustomerRow.id) == customer.id)
                        .values(mobile_index=index)
                    )
                    changed += 1
