"""Split bills (BEY-02): parts always sum to the whole and are never negative (properties),
by guest with a shared item, by items, evenly, by amount, refusals, and the split locking
once a payment names a part."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servio.billing import split
from servio.billing.service import lock_invoice, record_settlement
from servio.config import Settings
from servio.kit.clock import FrozenClock, utcnow
from servio.kit.db import Database
from servio.kit.errors import ProblemError
from servio.models.payment import Payment
from tests.billing.invoice_world import World, build_world, order, staff_bill
from tests.conftest import problem

MEMBERS = ["m1", "m2", "m3", "m4"]

lines_strategy = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=500_000),
        st.sampled_from([*MEMBERS[:3], None]),
    ),
    min_size=0,
    max_size=12,
)


def _lines(raw: list[tuple[int, str | None]]) -> list[split.SplitLine]:
    return [split.SplitLine(f"l{i}", weight, member) for i, (weight, member) in enumerate(raw)]


@given(amount=st.integers(min_value=0, max_value=5_000_000), raw=lines_strategy, data=st.data())
def test_by_guest_parts_sum_to_the_amount_and_idle_members_pay_nothing(
    amount: int, raw: list[tuple[int, str | None]], data: st.DataObject
) -> None:
    lines = _lines(raw)
    shared: dict[str, list[str]] = {}
    if lines:
        line = data.draw(st.sampled_from(lines))
        sharers = data.draw(st.lists(st.sampled_from(MEMBERS), min_size=1, max_size=4, unique=True))
        shared[line.ref] = sharers
    members = [(m, m.upper()) for m in MEMBERS]
    parts = split.by_guest(amount, lines, members, shared)
    assert sum(p.amount for p in parts) == amount
    assert all(p.amount >= 0 for p in parts)
    involved = {ln.member_id for ln in lines if ln.ref not in shared} | {
        m for sharers in shared.values() for m in sharers
    }
    for part in parts:
        if part.member_id is not None and part.member_id not in involved:
            assert part.amount == 0
            assert part.line_refs == ()


@given(amount=st.integers(min_value=0, max_value=5_000_000), n=st.integers(2, 50))
def test_even_parts_sum_and_differ_by_at_most_one(amount: int, n: int) -> None:
    parts = split.even(amount, n)
    values = [p.amount for p in parts]
    assert sum(values) == amount
    assert len(values) == n
    assert max(values) - min(values) <= 1
    assert min(values) >= 0


@given(
    amount=st.integers(min_value=0, max_value=5_000_000),
    raw=lines_strategy.filter(lambda xs: len(xs) >= 2),
    data=st.data(),
)
def test_by_items_parts_sum_to_the_amount(
    amount: int, raw: list[tuple[int, str | None]], data: st.DataObject
) -> None:
    lines = _lines(raw)
    cut = data.draw(st.integers(min_value=1, max_value=len(lines) - 1))
    groups = [("A", [ln.ref for ln in lines[:cut]]), ("B", [ln.ref for ln in lines[cut:]])]
    parts = split.by_items(amount, lines, groups)
    assert sum(p.amount for p in parts) == amount
    assert all(p.amount >= 0 for p in parts)


def test_refusals() -> None:
    lines = _lines([(100, "m1"), (200, "m2")])
    with pytest.raises(ProblemError) as missing:
        split.by_items(300, lines, [("A", ["l0"]), ("B", ["l0"])])
    assert missing.value.code == "SPLIT_INVALID"
    with pytest.raises(ProblemError) as left_out:
        split.by_items(300, lines, [("A", ["l0"]), ("B", ["nope"])])
    assert left_out.value.code == "SPLIT_INVALID"
    with pytest.raises(ProblemError) as mismatch:
        split.by_amount(300, [("A", 100), ("B", 150)])
    assert mismatch.value.code == "SPLIT_MISMATCH"
    assert mismatch.value.hint
    with pytest.raises(ProblemError) as stranger:
        split.by_guest(300, lines, [("m1", "A")], {"l1": ["zz"]})
    assert stranger.value.code == "SPLIT_INVALID"
    with pytest.raises(ProblemError):
        split.even(300, 1)


# --- the API ---------------------------------------------------------------------------------


@pytest.fixture
async def world(db: Database, settings: Settings) -> World:
    return await build_world(db, settings)


async def _bill(client: httpx.AsyncClient, db: Database, world: World) -> dict[str, Any]:
    await order(client, db, world, "Asha", [("salad", 2, ())])  # ₹360 + 5 %
    await order(client, db, world, "Ravi", [("lassi", 1, ())])  # ₹120 + 5 %
    return await staff_bill(client, world)


async def _split(
    client: httpx.AsyncClient, world: World, invoice_id: str, body: dict[str, Any], *, guest: bool
) -> httpx.Response:
    if guest:
        return await client.post(
            f"/g/{world.qr}/invoices/{invoice_id}/split", json=body, headers=world.guest()
        )
    return await client.post(
        f"/api/v1/invoices/{invoice_id}/split", json=body, headers=world.till.waiter
    )


@pytest.mark.backends
async def test_by_guest_each_member_pays_what_they_ordered_and_a_shared_item_is_halved(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, clock: FrozenClock
) -> None:
    bill = await _bill(client, db, world)
    reply = await _split(client, world, bill["id"], {"mode": "by_guest"}, guest=True)
    assert reply.status_code == 200, reply.text
    parts = {p["label"]: p for p in reply.json()["splits"]}
    assert parts["Asha"]["amount"] == 37800
    assert parts["Ravi"]["amount"] == 12600
    assert parts["Asha"]["member_id"] == world.member("Asha")

    lassi = next(ln for ln in bill["lines"] if ln["member_id"] == world.member("Ravi"))
    shared = {
        "mode": "by_guest",
        "shared": [
            {"line_ref": lassi["ref"], "member_ids": [world.member("Asha"), world.member("Ravi")]}
        ],
    }
    again = await _split(client, world, bill["id"], shared, guest=False)
    assert again.status_code == 200, again.text
    parts = {p["label"]: p["amount"] for p in again.json()["splits"]}
    assert parts == {"Asha": 37800 + 6300, "Ravi": 6300}
    assert sum(parts.values()) == bill["total"]


@pytest.mark.backends
async def test_even_by_items_and_by_amount(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, clock: FrozenClock
) -> None:
    bill = await _bill(client, db, world)
    even = await _split(client, world, bill["id"], {"mode": "even", "parts": 3}, guest=False)
    assert [p["amount"] for p in even.json()["splits"]] == [16800, 16800, 16800]

    refs = [ln["ref"] for ln in bill["lines"]]
    items = {
        "mode": "by_items",
        "parts": [{"label": "A", "line_refs": refs[:1]}, {"label": "B", "line_refs": refs[1:]}],
    }
    by_items = await _split(client, world, bill["id"], items, guest=True)
    assert by_items.status_code == 200, by_items.text
    assert sum(p["amount"] for p in by_items.json()["splits"]) == bill["total"]

    missing = {
        "mode": "by_items",
        "parts": [{"label": "A", "line_refs": refs[:1]}, {"label": "B", "line_refs": refs[:1]}],
    }
    bad = await _split(client, world, bill["id"], missing, guest=False)
    assert bad.status_code == 422
    assert problem(bad)["code"] == "SPLIT_INVALID"

    short = {
        "mode": "by_amount",
        "parts": [{"label": "A", "amount": 100}, {"label": "B", "amount": 200}],
    }
    mismatch = await _split(client, world, bill["id"], short, guest=False)
    assert mismatch.status_code == 422
    assert problem(mismatch)["code"] == "SPLIT_MISMATCH"
    exact = {
        "mode": "by_amount",
        "parts": [{"label": "A", "amount": 40000}, {"label": "B", "amount": bill["total"] - 40000}],
    }
    ok = await _split(client, world, bill["id"], exact, guest=False)
    assert [p["amount"] for p in ok.json()["splits"]] == [40000, bill["total"] - 40000]


@pytest.mark.backends
async def test_a_payment_naming_a_part_locks_the_split(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, clock: FrozenClock
) -> None:
    bill = await _bill(client, db, world)
    done = await _split(client, world, bill["id"], {"mode": "by_guest"}, guest=True)
    asha = next(p for p in done.json()["splits"] if p["label"] == "Asha")
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        invoice = await lock_invoice(uow, world.tenant_id, bill["id"])
        uow.session.add(
            Payment(
                tenant_id=world.tenant_id,
                outlet_id=world.outlet_id,
                invoice_id=invoice.id,
                split_id=asha["id"],
                method="cash",
                amount=asha["amount"],
                succeeded_at=utcnow(),
            )
        )
        await record_settlement(
            uow, invoice, paid_delta=asha["amount"], split_id=asha["id"], now=utcnow()
        )
    locked = await _split(client, world, bill["id"], {"mode": "even", "parts": 2}, guest=True)
    assert locked.status_code == 409
    assert problem(locked)["code"] == "SPLIT_LOCKED"
    shown = (
        await client.get(f"/g/{world.qr}/invoices/{bill['id']}", headers=world.guest("Ravi"))
    ).json()
    assert shown["status"] == "partial"
    assert shown["balance_due"] == 12600
    paid = {p["label"]: (p["paid_amount"], p["due"]) for p in shown["splits"]}
    assert paid == {"Asha": (37800, 0), "Ravi": (0, 12600)}
