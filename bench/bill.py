"""S6, the bill. Over HTTP (`http_scenario`, run by `python -m bench run`): a 40-line,
4-guest table's bill and by-guest split through the guest routes, against the pure engine
pricing and splitting the same lines in the same run. In-process (`run`, the CLI below):
the tax engine (`billing.tax.compute_bill`) on a busy table's bill
against a baseline in the same run — the same lines priced with plain `Decimal`
arithmetic (unit price times qty, one tax per line, summed), which is the least any bill costs.

The bill: 4 guests, 24 lines over GST rates 5/12/18 %, a stacked percent + flat coupon
with a cap, a 10 % service charge, a tip, item-wise GST and cash rounding to ₹1.

    python -m bench.bill --bills 3000 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
from ulid import ULID

from bench import loadgen
from bench.loadgen import LoadResult
from bench.scenarios import Mode, Outcome, Round, Target
from servio.billing.split import Part, SplitLine, by_guest
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


# --- S6 over HTTP: the guest's bill and by-guest split of a 40-line, 4-guest table -----------

LINES_PER_GUEST = 10
GUESTS = 4
BROWSER = {"Accept": "application/json", "Accept-Encoding": "gzip, deflate, br"}


@dataclass
class Seat:
    """One demo table as its four phones see it."""

    qr_token: str
    session_id: str
    members: list[str]  # member tokens, the first is the table's existing member


def engine_input(invoice: dict[str, Any]) -> BillInput:
    """The invoice's own lines and tax basis as the engine's input: pricing it again must
    give the invoice's figures (checked), so the engine baseline computes the same totals."""
    basis = invoice["tax_basis"]
    profile = TaxProfile(
        currency=basis["currency"],
        regime=basis["regime"] if basis["regime"] != "none" else "gst",
        gst_mode=basis["gst_mode"],
        state_code=basis["state_code"],
        prices_include_tax=basis["prices_include_tax"],
        gst_rounding=basis["gst_rounding"],
        rounding_mode=RoundingMode(basis["rounding_mode"]),
        rounding=basis["rounding"],
        service_charge_pct=Decimal(basis["service_charge_pct"]),
        service_charge_tax_rate=Decimal(basis["service_charge_tax_rate"]),
    )
    lines = tuple(
        BillLine(
            ref=line["ref"],
            menu_item_id=line["menu_item_id"],
            category_id=None,
            name=line["name"],
            qty=line["qty"],
            base_price=line["unit_price"],
            modifiers_total=0,
            rate=Decimal(line["tax_rate"]),
            hsn=line["hsn"],
            member_id=line["member_id"],
        )
        for line in invoice["lines"]
    )
    return BillInput(
        profile=profile,
        lines=lines,
        at=datetime.fromisoformat(basis["priced_at"].replace("Z", "+00:00")),
        timezone=basis["timezone"],
        tip=invoice["tip"],
        payment_type=basis["payment_type"],
        place_of_supply=basis["place_of_supply"],
        happy_hours_enabled=basis["happy_hours_enabled"],
    )


def engine_bill_and_split(bill: BillInput, members: Sequence[str]) -> list[Part]:
    """The pure work of the HTTP bill + split: the engine's figures, then the by-guest
    split of the total over the lines (`billing.split.by_guest`)."""
    figures = compute_bill(bill)
    lines = [
        SplitLine(ref=line.ref, weight=line.total, member_id=line.member_id)
        for line in figures.lines
    ]
    return by_guest(figures.total, lines, [(m, m) for m in members])


def plain_items(menu: dict[str, Any]) -> list[str]:
    """Ids of the available dishes that need no modifier choice (as `cart_lines` picks)."""
    return [
        item["id"]
        for section in menu["categories"]
        for item in section["items"]
        if item.get("is_available", True)
        and item.get("kind", "item") == "item"
        and not any(g["required"] for g in item.get("modifier_groups", []))
    ]


def seat_tables(c: httpx.Client, target: Target) -> list[Seat]:
    """Per demo table three more phones join (`GET /t/{token}` + `POST /member`), and the
    table's earlier orders are billed once (untimed) so every measured bill is 40 lines."""
    seats = []
    for (session_id, member), table in zip(target.tables, target.demo["tables"], strict=True):
        scan = c.get(f"/t/{table['qr_token']}", headers=BROWSER)
        scan.raise_for_status()
        guest = {**BROWSER, "Authorization": f"Bearer {scan.json()['guest_token']}"}
        members = [member]
        for n in range(1, GUESTS):
            joined = c.post(
                "/member", json={"session_id": session_id, "nickname": f"Bill {n}"}, headers=guest
            )
            joined.raise_for_status()
            members.append(joined.json()["member_token"])
        seat = Seat(table["qr_token"], session_id, members)
        c.post(
            f"/g/{seat.qr_token}/bill",
            json={},
            headers={**_auth(members[0]), "Idempotency-Key": secrets.token_hex(16)},
        )  # 201, 200 or 409 NOTHING_TO_BILL: all fine here
        seats.append(seat)
    return seats


def _auth(token: str) -> dict[str, str]:
    return {**BROWSER, "Authorization": f"Bearer {token}"}


def order_forty_lines(c: httpx.Client, seat: Seat, items: list[str]) -> str | None:
    """Each of the 4 phones puts 10 lines in its cart; the first sends the table's order."""
    for k, token in enumerate(seat.members):
        lines = [
            {"menu_item_id": items[(k * LINES_PER_GUEST + j) % len(items)], "qty": 1 + j % 2}
            for j in range(LINES_PER_GUEST)
        ]
        cart = c.put(
            f"/session/{seat.session_id}/cart", json={"items": lines}, headers=_auth(token)
        )
        if cart.status_code != 200:
            return f"cart {cart.status_code}: {cart.text[:120]}"
    placed = c.post(
        "/orders",
        json={"session_id": seat.session_id, "order_id": str(ULID())},
        headers={**_auth(seat.members[0]), "Idempotency-Key": secrets.token_hex(16)},
    )
    return None if placed.status_code == 201 else f"order {placed.status_code}: {placed.text[:120]}"


def bill_and_split(c: httpx.Client, seat: Seat) -> tuple[float, dict[str, Any] | str]:
    """The timed part: what guest-bill.js sends — `POST /g/{token}/bill` (Idempotency-Key)
    then `POST /g/{token}/invoices/{id}/split` `{"mode": "by_guest"}`."""
    auth = _auth(seat.members[0])
    start = time.perf_counter()
    bill = c.post(
        f"/g/{seat.qr_token}/bill",
        json={},
        headers={**auth, "Idempotency-Key": secrets.token_hex(16)},
    )
    if bill.status_code != 201:
        return time.perf_counter() - start, f"bill {bill.status_code}: {bill.text[:120]}"
    split = c.post(
        f"/g/{seat.qr_token}/invoices/{bill.json()['id']}/split",
        json={"mode": "by_guest"},
        headers=auth,
    )
    took = time.perf_counter() - start
    if split.status_code != 200:
        return took, f"split {split.status_code}: {split.text[:120]}"
    return took, split.json()


def _engine_seconds(bill: BillInput, members: Sequence[str], seconds: float) -> float:
    """Seconds per bill + split in the pure engine, repeated for about `seconds`."""
    n, start = 0, time.perf_counter()
    while n < 20 or time.perf_counter() - start < seconds:
        engine_bill_and_split(bill, members)
        n += 1
    return (time.perf_counter() - start) / n


def http_scenario(target: Target, mode: Mode) -> Outcome:
    """S6: per round, every demo table orders 40 lines over 4 phones (untimed), then each
    table's bill + split is timed, sequentially, with the server's CPU read around the timed
    requests; then the same bills (rebuilt from the invoices' lines and tax basis) are
    priced and split by the pure engine. Ratio = HTTP time per bill / engine time per bill."""
    outcome = Outcome(
        "S6",
        f"bill with tax, {GUESTS * LINES_PER_GUEST} lines, split {GUESTS} ways (guest routes)",
        "≤ 3x pure engine time",
        "engine",
    )
    errors: list[str] = []
    mismatches = 0
    with httpx.Client(base_url=target.server.base_url, timeout=30) as c:
        seats = seat_tables(c, target)
        items = plain_items(target.menu)
        batches = 1 if not mode.full else 2
        for _ in range(mode.rounds):
            http_s: list[float] = []
            engine_s: list[float] = []
            cpu_s = 0.0
            for _ in range(batches):
                for seat in seats:
                    failed = order_forty_lines(c, seat, items)
                    if failed:
                        errors.append(failed)
                cpu = target.server.cpu_seconds()
                done = [bill_and_split(c, seat) for seat in seats]
                cpu_s += target.server.cpu_seconds() - cpu
                for took, got in done:
                    if isinstance(got, str):
                        errors.append(got)
                        continue
                    http_s.append(took)
                    problem = _check_bill(got)
                    if problem:
                        errors.append(problem)
                        continue
                    member_ids = [s["member_id"] for s in got["splits"]]
                    bill = engine_input(got)
                    parts = engine_bill_and_split(bill, member_ids)
                    if [p.amount for p in parts] != [s["amount"] for s in got["splits"]] or (
                        compute_bill(bill).total != got["total"]
                    ):
                        mismatches += 1
                    engine_s.append(_engine_seconds(bill, member_ids, 0.02))
            if not http_s:
                continue
            http_ms = [t * 1000 for t in http_s]
            app = LoadResult(
                tool="python-sequential",
                requests=len(http_s),
                seconds=sum(http_s),
                p50_ms=loadgen.percentile(http_ms, 50),
                p99_ms=loadgen.percentile(http_ms, 99),
                errors=0,
            )
            engine = statistics.median(engine_s)
            per_bill = statistics.median(http_s)
            outcome.rounds.append(
                Round(app, 1 / engine, cpu_s * 1000 / len(http_s), per_bill / engine)
            )
    outcome.ratio = (
        round(statistics.median(r.ratio for r in outcome.rounds), 2) if outcome.rounds else None
    )
    cpu_ms = (
        statistics.median(r.cpu_ms_per_request for r in outcome.rounds) if outcome.rounds else 0
    )
    outcome.checks |= {
        "errors": len(errors) + mismatches,
        "first_error": errors[0] if errors else "",
        "engine_mismatches": mismatches,
    }
    outcome.context |= {
        "ratio_note": "HTTP ms per bill (bill + split, client side) / engine ms per bill + split",
        "server_cpu_ms_per_bill": round(cpu_ms, 2),
        "stretch": "≤ 2 ms server time per bill",
        "engine_ms_per_bill": round(
            1000 / statistics.median(r.base_rate for r in outcome.rounds), 3
        )
        if outcome.rounds
        else None,
        "rss_mb_after": round(target.server.rss_mb(), 1),
    }
    outcome.passed = (
        outcome.ratio is not None and outcome.ratio <= 3 and not errors and not mismatches
    )
    outcome.notes.append(
        f"ratio = time per bill over HTTP (POST /g/{{token}}/bill + POST …/split by_guest, "
        f"{len(seats)} tables x {GUESTS} phones x {LINES_PER_GUEST} lines) / the pure engine "
        "(compute_bill + split.by_guest on the same lines and tax basis, totals checked equal); "
        f"server CPU {cpu_ms:.2f} ms per bill (stretch ≤ 2 ms)"
    )
    return outcome


def _check_bill(invoice: dict[str, Any]) -> str | None:
    lines = len(invoice["lines"])
    parts = len(invoice["splits"])
    if lines != GUESTS * LINES_PER_GUEST or parts != GUESTS:
        return f"bill has {lines} lines and {parts} parts, expected 40 and 4"
    if sum(s["amount"] for s in invoice["splits"]) != invoice["balance_due"]:
        return "split parts do not add up to the balance due"
    return None


if __name__ == "__main__":
    main()
