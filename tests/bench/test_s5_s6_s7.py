"""The pure pieces of S5, S6 and S7: the mix schedule, the socket listener's bookkeeping,
the open-files helper and the engine input rebuilt from an invoice. No servers, no timing."""

from __future__ import annotations

import asyncio
import itertools
import resource
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import orjson

from bench import bill, mixed, report, sockets
from servio.billing.tax import BillInput, BillLine, TaxProfile, compute_bill
from servio.kit.money import RoundingMode


def test_mix_schedule_has_the_issue_shares_spread_over_the_cycle() -> None:
    cycle = mixed.schedule()
    assert Counter(cycle) == {"menu": 85, "status": 8, "order": 5, "bill": 2}
    orders = [i for i, kind in enumerate(cycle) if kind == "order"]
    assert [b - a for a, b in itertools.pairwise(orders)] == [20, 20, 20, 20]


async def test_listener_wakes_the_bump_when_every_socket_of_the_table_got_it() -> None:
    listener = sockets.Listener(table_of={0: "s1", 1: "s1", 2: "s2"})
    assert listener.sockets_at("s1") == 2
    event = listener.expect("o1", "ready", 2)
    message = {"type": "order_status", "data": {"order_id": "o1", "status": "ready"}}
    listener.on_message(orjson.dumps({"type": "ping", "data": {}}))
    listener.on_message(orjson.dumps(message))
    assert not event.is_set()
    listener.on_message(orjson.dumps(message))
    await asyncio.wait_for(event.wait(), 1)
    assert len(listener.received[("o1", "ready")]) == 2
    assert listener.other_messages == 1


def test_open_files_limit_is_raised_not_lowered() -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert sockets.raise_open_files(16) == soft
    assert sockets.raise_open_files(soft + 1) >= soft


def test_engine_input_from_an_invoice_gives_the_invoice_figures_and_split() -> None:
    profile = TaxProfile(state_code="KA", service_charge_tax_rate=Decimal(5))
    at = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    original = BillInput(
        profile=profile,
        lines=tuple(
            BillLine(
                ref=f"l{i}",
                menu_item_id=f"m{i % 5}",
                category_id=None,
                name=f"Dish {i}",
                qty=1 + i % 2,
                base_price=9_000 + 500 * i,
                modifiers_total=0,
                rate=Decimal(5) if i % 3 else Decimal(18),
                hsn="996331",
                member_id=f"g{i % 4}",
            )
            for i in range(40)
        ),
        at=at,
    )
    figures = compute_bill(original)
    invoice = {
        "lines": [line.as_dict() for line in figures.lines],
        "tip": 0,
        "total": figures.total,
        "tax_basis": {
            "regime": "gst",
            "gst_mode": "regular",
            "state_code": "KA",
            "place_of_supply": "KA",
            "prices_include_tax": False,
            "gst_rounding": "item_wise",
            "rounding_mode": RoundingMode.HALF_UP.value,
            "rounding": "none",
            "service_charge_pct": "0",
            "service_charge_tax_rate": "5",
            "currency": "INR",
            "timezone": "Asia/Kolkata",
            "priced_at": "2026-12-03T14:00:00Z",
            "payment_type": None,
            "happy_hours_enabled": False,
        },
    }
    rebuilt = bill.engine_input(invoice)
    assert compute_bill(rebuilt).total == figures.total
    parts = bill.engine_bill_and_split(rebuilt, ["g0", "g1", "g2", "g3"])
    assert [p.member_id for p in parts] == ["g0", "g1", "g2", "g3"]
    assert sum(p.amount for p in parts) == figures.total
    assert all(len(p.line_refs) == 10 for p in parts)


def test_report_lists_a_scenario_once_when_it_ran() -> None:
    result = {"scenarios": [{"id": "S5", "name": "bump", "goal": "g", "baseline": "—"}]}
    ids = [row[0] for row in report.rows(result)]
    assert ids.count("S5") == 1
    assert "S7" in ids
