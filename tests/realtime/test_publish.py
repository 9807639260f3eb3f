"""Pushes leave only after the commit, and a failing push never fails the request."""

from __future__ import annotations

import asyncio
import logging

import pytest

from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.realtime.messages import ALERT, make_message
from servio.realtime.publish import publish_after_commit
from servio.realtime.pubsub import InProcessPubSub, Message


class Boom(Exception):
    pass


@pytest.mark.backends
async def test_published_only_after_commit(backend: str, db: Database, clock: FrozenClock) -> None:
    bus = InProcessPubSub()
    async with bus.subscribe("outlet:O:staff") as sub:
        async with db.unit_of_work() as uow:
            publish_after_commit(uow, bus, "outlet:O:staff", ALERT, {"kind": "announcement"})
            assert len(sub) == 0  # nothing while the transaction is open
        message = await asyncio.wait_for(sub.get(), 1)
    assert message == {
        "type": "alert",
        "data": {"kind": "announcement"},
        "ts": "2026-11-22T07:30:00Z",
    }


@pytest.mark.backends
async def test_nothing_is_published_for_a_rolled_back_transaction(
    backend: str, db: Database
) -> None:
    bus = InProcessPubSub()
    async with bus.subscribe("outlet:O:staff") as sub:

        async def change_then_fail() -> None:
            async with db.unit_of_work() as uow:
                publish_after_commit(uow, bus, "outlet:O:staff", ALERT, {"n": 1})
                raise Boom

        with pytest.raises(Boom):
            await change_then_fail()
        # A later committed push is the first thing the subscriber sees.
        async with db.unit_of_work() as uow:
            publish_after_commit(uow, bus, "outlet:O:staff", ALERT, {"n": 2})
        assert (await asyncio.wait_for(sub.get(), 1))["data"] == {"n": 2}
        assert len(sub) == 0


class BrokenPubSub(InProcessPubSub):
    async def publish(self, channel: str, message: Message) -> None:
        raise ConnectionError("redis is down")


async def test_a_failed_publish_is_logged_not_raised(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="servio.realtime.publish"):
        async with db.unit_of_work() as uow:
            publish_after_commit(uow, BrokenPubSub(), "outlet:O:staff", ALERT, {})
    assert "outlet:O:staff failed" in caplog.text


def test_message_envelope_uses_the_server_clock_and_known_types(clock: FrozenClock) -> None:
    assert make_message("order_status", {"order_id": "X", "status": "ready", "eta_secs": 0}) == {
        "type": "order_status",
        "data": {"order_id": "X", "status": "ready", "eta_secs": 0},
        "ts": "2026-11-22T07:30:00Z",
    }
    with pytest.raises(ValueError, match="unknown real-time message type"):
        make_message("order_stauts", {})
