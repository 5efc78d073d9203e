"""Writes examples/overdue-sample.csv: a daily overdue file of fictional customers.

Deterministic (a fixed seed), and every due date lies 1 to 120 days before `--as-of`, so the
file never holds a date in the future of its own intake day. Regenerate with

    .venv/bin/python examples/make_sample.py --as-of 2026-11-28
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

HERE = Path(__file__).resolve().parent
AS_OF = date(2026, 11, 28)
HEADER = (
    "account_no",
    "customer_ref",
    "customer_name",
    "mobile",
    "language",
    "time_zone",
    "product",
    "currency",
    "outstanding_minor",
    "overdue_minor",
    "oldest_due_date",
    "strategy",
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
_GIVEN = (
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 霞 平 刚 秀英 桂英 秀兰 建华 "
    "志强 文博 子涵 欣怡 浩然 梓萱 宇轩 雨桐 俊杰 思远 晓东 海燕 丽华 建国 婷婷 嘉怡"
)
_FIRST = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Susan "
    "Richard Jessica Thomas Sarah Oliver Amelia Harry Isla George Emily Jack Sophie Noah Grace"
)
_LAST = (
    "Smith Johnson Williams Brown Jones Miller Davis Wilson Taylor Clarke Evans Walker Wright "
    "Hughes Green Hall Wood Harris Lewis Robinson Carter Mitchell Turner Cooper Ward Morgan"
)
GIVEN, FIRST, LAST = _GIVEN.split(), _FIRST.split(), _LAST.split()


@dataclass(frozen=True)
class Region:
    time_zone: str
    currencies: tuple[str, ...]
    weight: int


MAINLAND = Region("Asia/Shanghai", ("CNY",), 80)
HONG_KONG = Region("Asia/Hong_Kong", ("HKD", "CNY"), 8)
NEW_YORK = Region("America/New_York", ("USD",), 7)
LONDON = Region("Europe/London", ("GBP",), 5)
REGIONS = (MAINLAND, HONG_KONG, NEW_YORK, LONDON)

# (product, share) per region kind, and balances in major units per product and currency.
PRODUCTS_CN = (("card", 50), ("personal_loan", 35), ("auto_loan", 15))
PRODUCTS_WEST = (("card", 80), ("personal_loan", 20))
BALANCE = {
    ("card", "CNY"): (3_000, 60_000),
    ("card", "HKD"): (5_000, 150_000),
    ("card", "USD"): (800, 18_000),
    ("card", "GBP"): (500, 12_000),
    ("personal_loan", "CNY"): (20_000, 300_000),
    ("personal_loan", "HKD"): (30_000, 400_000),
    ("personal_loan", "USD"): (3_000, 40_000),
    ("personal_loan", "GBP"): (2_000, 25_000),
    ("auto_loan", "CNY"): (40_000, 250_000),
    ("auto_loan", "HKD"): (60_000, 350_000),
}
ACCOUNT_PREFIX = {"card": "CC", "personal_loan": "PL", "auto_loan": "AL"}
# Days past due, weighted like a real book: most accounts in M1, fewer in each later bucket.
DPD_BUCKETS = (((1, 30), 55), ((31, 60), 20), ((61, 90), 13), ((91, 120), 12))


class Sample:
    def __init__(self, seed: int, as_of: date) -> None:
        self._rng = random.Random(seed)
        self._as_of = as_of
        self._used: set[str] = set()

    def _unique(self, make: Callable[[], str]) -> str:
        while (value := make()) in self._used:
            pass
        self._used.add(value)
        return value

    def _pick(self, weighted: tuple[tuple[T, int], ...]) -> T:
        values = [v for v, _ in weighted]
        return self._rng.choices(values, weights=[w for _, w in weighted])[0]

    def mobile(self, region: Region) -> str:
        rng = self._rng
        if region is NEW_YORK:  # 555-0100..0199 is reserved for fiction
            return self._unique(
                lambda: f"+1{rng.choice(('212', '646', '917'))}555{rng.randint(100, 199):04d}"
            )
        if region is LONDON:  # 07700 900000..900999 is Ofcom's range for drama
            return self._unique(lambda: f"+447700900{rng.randint(0, 999):03d}")
        return self._unique(
            lambda: f"+86{rng.choice(('138', '139', '150', '186'))}{rng.randint(0, 10**8 - 1):08d}"
        )

    def name(self, region: Region) -> str:
        rng = self._rng
        if region in (NEW_YORK, LONDON) or (region is HONG_KONG and rng.random() < 0.3):
            return f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        return rng.choice(SURNAMES) + rng.choice(GIVEN)

    def row(self) -> tuple[str, ...]:
        rng = self._rng
        region = self._pick(tuple((r, r.weight) for r in REGIONS))
        west = region in (NEW_YORK, LONDON)
        product = self._pick(PRODUCTS_WEST if west else PRODUCTS_CN)
        currency = rng.choice(region.currencies)
        name = self.name(region)
        language = "en" if west or name.isascii() else "zh-CN"
        low, high = self._pick(DPD_BUCKETS)
        dpd = rng.randint(low, high)
        outstanding, overdue = self.balances(product, currency, dpd)
        prefix = ACCOUNT_PREFIX[product]
        account_no = self._unique(lambda: f"{prefix}{rng.randint(0, 10**12 - 1):012d}")
        customer_ref = self._unique(lambda: f"CUST{rng.randint(0, 10**8 - 1):08d}")
        return (
            account_no,
            customer_ref,
            name,
            self.mobile(region),
            language,
            region.time_zone,
            product,
            currency,
            str(outstanding),
            str(overdue),
            (self._as_of - timedelta(days=dpd)).isoformat(),
            "default" if rng.random() < 0.05 else "",
        )

    def balances(self, product: str, currency: str, dpd: int) -> tuple[int, int]:
        """(outstanding, overdue) in minor units: arrears are the missed monthly instalments."""
        rng = self._rng
        low, high = BALANCE[(product, currency)]
        outstanding = rng.randint(low * 100, high * 100)
        if product == "card":  # the minimum payment: 10% of the balance, at least 100 units
            instalment = max(outstanding // 10, 10_000)
        else:
            term_months = rng.choice((12, 24, 36, 48, 60))
            instalment = outstanding * 105 // (100 * term_months)
        missed = (dpd + 29) // 30
        return outstanding, min(outstanding, missed * instalment)


def write_sample(path: Path, *, rows: int, seed: int, as_of: date) -> None:
    sample = Sample(seed, as_of)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        for _ in range(rows):
            writer.writerow(sample.row())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--as-of", type=date.fromisoformat, default=AS_OF)
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--out", type=Path, default=HERE / "overdue-sample.csv")
    args = parser.parse_args()
    write_sample(args.out, rows=args.rows, seed=args.seed, as_of=args.as_of)


if __name__ == "__main__":
    main()
