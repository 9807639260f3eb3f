"""Bill computation: the tax engine (`billing.tax.compute_bill`) on a busy table's bill
against a baseline in the same run — the same lines priced with plain `Decimal`
arithmetic (unit price times qty, one tax per line, summed), which is the least any bill costs.

The bill: 4 guests, 24 lines over GST rates 5/12/18 %, a stacked percent + flat coupon
with a cap, a 10 % service charge, a tip, item-wise GST and cash rounding to ₹1.

    python -m bench.bill --bills 3000 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from servio.billing.tax import BillInput, BillLine, CouponSpec, TaxProfile, compute_bill
from servio.kit.money import RoundingMode

RATES = (Decimal(5), Decimal(12), Decimal(18))
AT = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)


def table_bill() -> BillInput:
    lines = tuple(
        BillLine(
            ref=str(index),
            menu_item_id=f"item{index % 9}",
            category_id=None,
            name=f"Dish {index}",
            qty=1 + index % 3,
            base_price=12_000 + 1_375 * (index % 7),
            modifiers_total=2_500 * (index % 2),
            rate=RATES[index % 3],
            hsn="996331",
            member_id=f"m{index % 4}",
        )
        for index in range(24)
    )
    profile = TaxProfile(
        state_code="29",
        rounding_mode=RoundingMode.HALF_UP,
        rounding="nearest_1",
        service_charge_pct=Decimal(10),
        service_charge_tax_rate=Decimal(5),
    )
    coupons = (
        CouponSpec(
            id="c1",
            code="TEN",
            kind="percent",
            percent=Decimal(10),
            max_discount=30_000,
            stackable=True,
        ),
        CouponSpec(id="c2", code="FLAT50", kind="flat", amount=5_000, stackable=True),
    )
    return BillInput(profile=profile, lines=lines, at=AT, coupons=coupons, tip=10_000)


def naive_total(bill: BillInput) -> int:
    """Baseline: what any point of sale must do at least — price and tax each line."""
    cent = Decimal(1)
    total = Decimal(0)
    for line in bill.lines:
        amount = Decimal((line.base_price + line.modifiers_total) * line.qty)
        tax = (amount * line.rate / 100).quantize(cent, rounding=ROUND_HALF_UP)
        total += amount + tax
    return int(total) + bill.tip


def _rate(call: Callable[[BillInput], object], bill: BillInput, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        call(bill)
    return count / (time.perf_counter() - start)


def run(bills: int, rounds: int) -> dict[str, object]:
    bill = table_bill()
    figures = compute_bill(bill)
    engine: list[float] = []
    baseline: list[float] = []
    for _ in range(rounds):  # alternate so drift hits both alike
        baseline.append(_rate(naive_total, bill, bills))
        engine.append(_rate(compute_bill, bill, bills))
    ratios = [e / b for e, b in zip(engine, baseline, strict=True)]
    return {
        "lines": len(bill.lines),
        "total": figures.total,
        "engine_bills_per_s": round(statistics.median(engine)),
        "baseline_bills_per_s": round(statistics.median(baseline)),
        "engine_ms_per_bill": round(1000 / statistics.median(engine), 3),
        "ratio_median": round(statistics.median(ratios), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bills", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(run(args.bills, args.rounds), indent=2))


if __name__ == "__main__":
    main()
