"""ETA (RT-04): the pure rules as properties (never below 0, non-increasing with elapsed
time, exactly 0 at ready/served, the moving average stays between what it averages), and
the persisted averages driving the ETA a table hears, on the injectable clock."""

from __future__ import annotations

import math

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.kitchen import eta
from servio.models import PrepTimeStat
from servio.realtime.pubsub import session_channel
from tests.kitchen.kds_world import Kitchen, build_kitchen, lines_by_name, ok, send_order, set_item
from tests.ordering.conftest import drain

SECS = st.floats(min_value=0, max_value=86_400, allow_nan=False)
ESTIMATE = st.floats(min_value=-1_000, max_value=86_400, allow_nan=False)
ITEM_STATES = st.sampled_from(["queued", "in_progress", "ready", "served", "voided"])
ORDER_STATES = st.sampled_from(
    ["pending", "in_queue", "in_progress", "ready", "out_for_delivery", "served", "completed"]
)
ITEM_IDS = st.sampled_from(["paneer", "lassi", "salad"])
AVERAGES = st.dictionaries(st.sampled_from(["paneer", "lassi", ""]), SECS, max_size=3)


# --- pure properties -------------------------------------------------------------------------


@given(estimate=ESTIMATE, elapsed=SECS, status=ITEM_STATES)
def test_remaining_is_never_below_zero(estimate: float, elapsed: float, status: str) -> None:
    assert eta.remaining_secs(estimate, elapsed, status=status) >= 0


@given(estimate=ESTIMATE, first=SECS, later=SECS, status=ITEM_STATES)
def test_remaining_never_grows_with_elapsed_time(
    estimate: float, first: float, later: float, status: str
) -> None:
    early, late = sorted((first, later))
    assert eta.remaining_secs(estimate, late, status=status) <= eta.remaining_secs(
        estimate, early, status=status
    )


@given(estimate=ESTIMATE, elapsed=SECS, status=st.sampled_from(["ready", "served", "voided"]))
def test_remaining_is_exactly_zero_once_done(estimate: float, elapsed: float, status: str) -> None:
    assert eta.remaining_secs(estimate, elapsed, status=status) == 0


@given(estimate=SECS)
def test_nothing_elapsed_means_the_whole_estimate(estimate: float) -> None:
    assert eta.remaining_secs(estimate, 0) == math.ceil(estimate)


@given(
    items=st.lists(st.tuples(ITEM_IDS, ITEM_STATES, SECS), max_size=6),
    averages=AVERAGES,
    default=SECS,
    status=ORDER_STATES,
    wait=SECS,
)
def test_order_eta_counts_down_to_zero_and_never_below(
    items: list[tuple[str, str, float]],
    averages: dict[str, float],
    default: float,
    status: str,
    wait: float,
) -> None:
    now = [eta.ItemTiming(i, s, e) for i, s, e in items]
    later = [eta.ItemTiming(i, s, e + wait) for i, s, e in items]
    a = eta.order_remaining_secs(now, averages, default, order_status=status)
    b = eta.order_remaining_secs(later, averages, default, order_status=status)
    assert a is not None
    assert b is not None
    assert 0 <= b <= a
    if status in ("ready", "out_for_delivery", "served", "completed"):
        assert a == 0
    if items and all(s in ("ready", "served", "voided") for _, s, _ in items):
        assert a == 0


@given(status=st.sampled_from(["cancelled", "refunded"]))
def test_cancelled_orders_have_no_eta(status: str) -> None:
    timings = [eta.ItemTiming("paneer", "queued", 0)]
    assert eta.order_remaining_secs(timings, {}, 900, order_status=status) is None


@given(previous=st.one_of(st.none(), SECS), sample=SECS)
def test_the_average_moves_towards_the_sample_by_alpha(
    previous: float | None, sample: float
) -> None:
    updated = eta.update_ema(previous, sample)
    if previous is None:
        assert updated == sample
    else:
        assert min(previous, sample) - 1e-6 <= updated <= max(previous, sample) + 1e-6
        assert math.isclose(updated, 0.3 * sample + 0.7 * previous, rel_tol=1e-9, abs_tol=1e-9)


@given(averages=AVERAGES, default=SECS)
def test_an_item_never_timed_uses_the_outlet_average_then_the_default(
    averages: dict[str, float], default: float
) -> None:
    expected = averages.get("salad", averages.get("", default))
    assert eta.estimate_for("salad", averages, default) == expected


# --- persisted averages and the ETA the table hears ----------------------------------------


@pytest.fixture
async def kitchen(db: Database, settings: Settings) -> Kitchen:
    return await build_kitchen(db, settings)


async def averages(db: Database, kitchen: Kitchen) -> dict[str, tuple[float, int]]:
    names = {v: k for k, v in kitchen.table.bistro.items.items()}
    async with db.unit_of_work(tenant_id=kitchen.tenant_id) as uow:
        rows = (await uow.session.execute(select(PrepTimeStat))).scalars()
        return {names.get(r.menu_item_id, r.menu_item_id): (r.ema_secs, r.samples) for r in rows}


async def cook_salad(
    client: httpx.AsyncClient, db: Database, kitchen: Kitchen, clock: FrozenClock, secs: int
) -> str:
    order_id = await send_order(client, db, kitchen, [("salad", 1, [])])
    salad = (await lines_by_name(db, kitchen.tenant_id, order_id))["Sprout Salad"].id
    await ok(set_item(client, kitchen.cook, salad, "in_progress"))
    clock.advance(seconds=secs)
    await ok(set_item(client, kitchen.cook, salad, "ready"))
    return salad


@pytest.mark.backends
async def test_prep_time_averages_drive_the_eta_and_it_counts_down(
    backend: str,
    app: FastAPI,
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    kitchen: Kitchen,
) -> None:
    # Before any history: the outlet's default (15 min).
    first = await send_order(client, db, kitchen, [("salad", 1, [])])
    body = await ok(client.get(f"/api/v1/orders/{first}", headers=kitchen.owner))
    assert body["eta_secs"] == 15 * 60
    salad = (await lines_by_name(db, kitchen.tenant_id, first))["Sprout Salad"].id
    await ok(set_item(client, kitchen.cook, salad, "in_progress"))
    clock.advance(seconds=200)
    await ok(set_item(client, kitchen.cook, salad, "ready"))
    assert await averages(db, kitchen) == {"salad": (200.0, 1), "": (200.0, 1)}

    # A recall and a second `ready` of the same item is not a new sample.
    await ok(set_item(client, kitchen.cook, salad, "recalled"))
    clock.advance(seconds=20)
    await ok(set_item(client, kitchen.cook, salad, "ready"))
    assert await averages(db, kitchen) == {"salad": (200.0, 1), "": (200.0, 1)}

    await cook_salad(client, db, kitchen, clock, 60)  # 0.3·60 + 0.7·200 = 158
    stats = await averages(db, kitchen)
    assert stats["salad"][1] == 2
    assert math.isclose(stats["salad"][0], 158.0)

    # The next salad order is promised 158 s; it counts down on the table's phones.
    async with app.state.pubsub.subscribe(session_channel(kitchen.table.session_id)) as table:
        order_id = await send_order(client, db, kitchen, [("salad", 1, [])])
        body = await ok(client.get(f"/api/v1/orders/{order_id}", headers=kitchen.owner))
        assert body["eta_secs"] == 158
        await drain(table)
        clock.advance(seconds=100)
        line = (await lines_by_name(db, kitchen.tenant_id, order_id))["Sprout Salad"].id
        await ok(set_item(client, kitchen.cook, line, "in_progress"))
        [started] = [m["data"] for m in await drain(table) if m["type"] == "order_status"]
        assert started == {"order_id": order_id, "status": "in_progress", "eta_secs": 58}
        # Late food: the ETA stops at 0, never negative; ready is exactly 0.
        clock.advance(seconds=100)
        await ok(set_item(client, kitchen.cook, line, "ready"))
        [ready] = [m["data"] for m in await drain(table) if m["type"] == "order_status"]
        assert ready == {"order_id": order_id, "status": "ready", "eta_secs": 0}
