"""The kitchen item state machine over HTTP, as a property: for any sequence of requested
statuses, `POST /api/v1/kds/items/{id}/status` accepts exactly the moves
`ordering.state.ITEM_TRANSITIONS` allows (`recalled` = ready → in_progress), refuses every
other with 409 naming the current state, and the order follows its item forward only."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servio.config import Settings
from servio.kit.db import Database
from servio.kitchen.service import derive_status, order_path
from servio.ordering.state import ITEM_TRANSITIONS, ORDER_TRANSITIONS, reachable
from tests.conftest import problem
from tests.kitchen.kds_world import Kitchen, build_kitchen, lines_by_name, send_order, set_item
from tests.ordering.conftest import order_row

REQUESTS = ["in_progress", "ready", "served", "voided", "recalled"]
ORDER_FOR = {
    "queued": "in_queue",
    "in_progress": "in_progress",
    "ready": "ready",
    "served": "served",
}
ORDER_RANK = {"in_queue": 0, "in_progress": 1, "ready": 2, "served": 3}


def model_step(state: str, requested: str) -> str | None:
    """The item's next state in the model, or None when the request must be refused."""
    if requested == "recalled":
        return "in_progress" if state == "ready" else None
    return requested if requested in ITEM_TRANSITIONS[state] else None


@pytest.fixture
async def kitchen(db: Database, settings: Settings) -> Kitchen:
    return await build_kitchen(db, settings)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(requests=st.lists(st.sampled_from(REQUESTS), min_size=1, max_size=7))
async def test_random_status_requests_follow_the_item_state_machine(
    client: httpx.AsyncClient, db: Database, kitchen: Kitchen, requests: list[str]
) -> None:
    order_id = await send_order(client, db, kitchen, [("salad", 1, [])])
    line = (await lines_by_name(db, kitchen.tenant_id, order_id))["Sprout Salad"].id
    state, order_state = "queued", "in_queue"
    for requested in requests:
        reply = await set_item(client, kitchen.owner, line, requested)
        expected = model_step(state, requested)
        if expected is None:
            assert reply.status_code == 409, (state, requested, reply.text)
            body = problem(reply)
            assert body["code"] == "ILLEGAL_TRANSITION"
            assert body["current_state"] == state
        else:
            assert reply.status_code == 200, (state, requested, reply.text)
            state = expected
            [item] = reply.json()["items"]
            assert item["status"] == state
            assert reply.json()["status"] == derive_status([state])
            implied = ORDER_FOR.get(state)
            if implied is not None and ORDER_RANK[implied] > ORDER_RANK[order_state]:
                order_state = implied
        assert (await order_row(db, kitchen.tenant_id, order_id)).status == order_state


# --- the pure rules the endpoint relies on ---------------------------------------------------


@given(st.lists(st.sampled_from(list(ITEM_TRANSITIONS)), min_size=1, max_size=8))
def test_a_ticket_is_ready_only_when_every_live_item_is(statuses: list[str]) -> None:
    status = derive_status(statuses)
    live = [s for s in statuses if s != "voided"]
    if not live:
        assert status == "voided"
    elif status in ("ready", "served"):
        assert all(s in ("ready", "served") for s in live)
    elif status == "queued":
        assert all(s == "queued" for s in live)
    else:
        assert status == "in_progress"
        assert any(s != "queued" for s in live)


@given(
    st.sampled_from(list(ORDER_TRANSITIONS)),
    st.sampled_from(["in_queue", "in_progress", "ready", "served"]),
)
def test_the_order_only_moves_forward_along_its_machine(current: str, target: str) -> None:
    path = order_path(current, target)
    if path:
        assert path[-1] == target
        assert "cancelled" not in path
        for before, after in zip([current, *path], path, strict=False):
            assert after in ORDER_TRANSITIONS[before]
    else:
        assert target == current or target not in reachable("order", current) - {current}
