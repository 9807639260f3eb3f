"""Idempotency-Key (PLAT-09) through a small test app: the endpoint writes an outbox row per
execution, so "exactly one effect" is a row count a user would notice as a double charge."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Header, Request
from pydantic import BaseModel
from sqlalchemy import func, select

from servio.auth.actors import StaffActor
from servio.config import Settings
from servio.kit.clock import FrozenClock, utcnow
from servio.kit.db import Database
from servio.kit.errors import ProblemError, install_error_handlers
from servio.kit.idempotency import (
    REPLAYED_HEADER,
    fingerprint_body,
    idempotent,
    purge_expired,
)
from servio.kit.ids import new_id
from servio.kit.policy import RoutePolicy, mark_policy, route_is_idempotent
from servio.kit.routing import ServioRoute, get_uow, make_router, request_context
from servio.models import AuditLog, IdempotencyKey, OutboxMessage
from tests.conftest import problem

TENANT = new_id()
pytestmark = pytest.mark.backends


@dataclass
class Behaviour:
    """What the test endpoint does next; tests flip it between requests."""

    mode: str = "ok"  # ok | out_of_stock | crash
    gate: asyncio.Event | None = None
    entered: asyncio.Event = field(default_factory=asyncio.Event)


@mark_policy(RoutePolicy("staff", "test.write"))
async def as_staff(request: Request, x_user: str = Header("user-a")) -> StaffActor:
    actor = StaffActor(
        user_id=x_user,
        tenant_id=TENANT,
        outlet_id=None,
        roles=("owner",),
        permissions=frozenset({"test.write"}),
        session_id="s",
    )
    request.state.actor = actor
    await request_context(request).scope_tenant(actor.tenant_id)
    return actor


@mark_policy(RoutePolicy("staff", "test.write"))
async def as_staff_checking_session(request: Request, x_user: str = Header("user-a")) -> StaffActor:
    """Like the real `require_staff`: reads the login session, so the request's transaction
    is already open when the key is claimed (on SQLite it then holds the write lock)."""
    actor = await as_staff(request, x_user)
    uow = await get_uow(request)
    await uow.session.execute(select(func.count()).select_from(OutboxMessage))
    return actor


class ThingIn(BaseModel):
    name: str
    qty: int = 1


def build_app(db: Database, settings: Settings, behaviour: Behaviour) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.state.db, app.state.settings = db, settings
    router = make_router()

    async def create_thing(body: ThingIn, request: Request) -> dict[str, Any]:
        behaviour.entered.set()
        if behaviour.gate is not None:
            await behaviour.gate.wait()
        if behaviour.mode == "out_of_stock":
            raise ProblemError(409, "OUT_OF_STOCK", "not enough stock", hint="order less")
        uow = await get_uow(request)  # opened late so a held request holds no lock
        message = OutboxMessage(
            tenant_id=TENANT,
            topic="test",
            event="thing.created",
            dedupe_key=new_id(),
            payload=body.model_dump(),
        )
        uow.session.add(message)
        await uow.session.flush()
        if behaviour.mode == "crash":
            raise RuntimeError("the printer caught fire")
        return {"id": message.id, "name": body.name, "qty": body.qty}

    for path, policy in (("/things", as_staff), ("/things-checked", as_staff_checking_session)):
        router.add_api_route(
            path,
            create_thing,
            methods=["POST"],
            status_code=201,
            summary="Create a thing",
            dependencies=[Depends(policy), Depends(idempotent())],
        )

    @router.post(
        "/unguarded", summary="Idempotent without a policy", dependencies=[Depends(idempotent())]
    )
    async def unguarded() -> dict[str, str]:
        return {}

    app.include_router(router)
    return app


@pytest.fixture
def behaviour() -> Behaviour:
    return Behaviour()


@pytest.fixture(params=["/things", "/things-checked"])
def path(request: pytest.FixtureRequest) -> str:
    """Both shapes a policy leaves a request in: no transaction yet, or one already open."""
    return str(request.param)


@pytest.fixture
async def client(
    db: Database, settings: Settings, behaviour: Behaviour
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(
        app=build_app(db, settings, behaviour), raise_app_exceptions=False
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def effects(db: Database) -> int:
    async with db.unit_of_work(bypass_rls=True) as uow:
        stmt = select(func.count()).select_from(OutboxMessage)
        return int((await uow.session.execute(stmt)).scalar_one())


def post(
    client: httpx.AsyncClient,
    key: str | None,
    body: dict[str, Any] | None = None,
    user: str = "user-a",
    path: str = "/things",
) -> Any:
    headers = {"X-User": user}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(path, json=body or {"name": "soup"}, headers=headers)


async def test_fifty_concurrent_duplicates_have_exactly_one_effect(
    backend: str, path: str, db: Database, client: httpx.AsyncClient
) -> None:
    key = str(uuid.uuid4())
    replies = await asyncio.gather(
        *(post(client, key, {"name": "soup", "qty": 2}, path=path) for _ in range(50))
    )

    assert await effects(db) == 1
    originals = [r for r in replies if r.status_code == 201 and REPLAYED_HEADER not in r.headers]
    replays = [r for r in replies if r.headers.get(REPLAYED_HEADER) == "true"]
    in_flight = [r for r in replies if r.status_code == 409]
    assert len(originals) == 1
    assert len(originals) + len(replays) + len(in_flight) == 50
    for reply in replays:
        assert reply.status_code == 201
        assert reply.json() == originals[0].json()
    for reply in in_flight:
        assert problem(reply)["code"] == "IDEMPOTENCY_IN_FLIGHT"
        assert problem(reply)["hint"] == "retry shortly"
        assert reply.headers["Retry-After"] == "1"
    # Once the first has finished, every retry is a replay of it.
    late = await post(
        client, key, {"qty": 2, "name": "soup"}, path=path
    )  # same JSON, keys reordered
    assert late.status_code == 201
    assert late.headers[REPLAYED_HEADER] == "true"
    assert late.json() == originals[0].json()
    assert late.headers["content-type"] == originals[0].headers["content-type"]


async def test_same_key_with_a_different_body_is_a_conflict(
    backend: str, path: str, db: Database, client: httpx.AsyncClient
) -> None:
    key = uuid.uuid4().hex
    assert (await post(client, key, {"name": "soup"}, path=path)).status_code == 201
    reply = await post(client, key, {"name": "soup", "qty": 3}, path=path)
    assert reply.status_code == 409
    assert problem(reply)["code"] == "IDEMPOTENCY_CONFLICT"
    assert await effects(db) == 1


async def test_missing_and_invalid_keys_are_refused_before_any_effect(
    backend: str, db: Database, client: httpx.AsyncClient
) -> None:
    missing = await post(client, None)
    assert missing.status_code == 400
    assert problem(missing)["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    for bad in ("has spaces in it", "semi;colon", "x" * 129, "a+b/c=="):
        reply = await post(client, bad)
        assert reply.status_code == 400, bad
        assert problem(reply)["code"] == "IDEMPOTENCY_KEY_INVALID"
    assert await effects(db) == 0
    # UUID, hex and base64url (128 characters is still fine) are accepted.
    for good in (str(uuid.uuid4()), uuid.uuid4().hex, "aGVsbG8td29ybGQ_-" + "A" * 111):
        assert (await post(client, good)).status_code == 201, good
    assert await effects(db) == 3


async def test_business_error_is_stored_and_replayed(
    backend: str, path: str, db: Database, client: httpx.AsyncClient, behaviour: Behaviour
) -> None:
    key = str(uuid.uuid4())
    behaviour.mode = "out_of_stock"
    first = await post(client, key, path=path)
    assert first.status_code == 409
    assert problem(first)["code"] == "OUT_OF_STOCK"

    behaviour.mode = "ok"  # stock arrived, but this key already has its answer
    again = await post(client, key, path=path)
    assert again.status_code == 409
    assert again.headers[REPLAYED_HEADER] == "true"
    assert problem(again) == problem(first)
    assert await effects(db) == 0


async def test_a_burst_of_refusals_is_stored_without_draining_the_pool(
    backend: str, path: str, db: Database, client: httpx.AsyncClient, behaviour: Behaviour
) -> None:
    # More refused requests at once than the pool has connections: each stores its refusal
    # in a fresh transaction, which must not wait on a connection its own request still holds.
    behaviour.mode = "out_of_stock"
    replies = await asyncio.gather(*(post(client, str(uuid.uuid4()), path=path) for _ in range(40)))
    assert [r.status_code for r in replies] == [409] * 40
    assert {problem(r)["code"] for r in replies} == {"OUT_OF_STOCK"}


async def test_server_error_releases_the_key(
    backend: str, path: str, db: Database, client: httpx.AsyncClient, behaviour: Behaviour
) -> None:
    key = str(uuid.uuid4())
    behaviour.mode = "crash"
    crashed = await post(client, key, path=path)
    assert crashed.status_code == 500
    assert await effects(db) == 0  # the effect was rolled back with the request

    behaviour.mode = "ok"
    retried = await post(client, key, path=path)
    assert retried.status_code == 201
    assert REPLAYED_HEADER not in retried.headers
    assert await effects(db) == 1


async def test_validation_error_releases_the_key(
    backend: str, db: Database, client: httpx.AsyncClient
) -> None:
    key = str(uuid.uuid4())
    bad = await client.post("/things", json={"qty": 1}, headers={"Idempotency-Key": key})
    assert bad.status_code == 422
    async with db.unit_of_work(bypass_rls=True) as uow:
        assert (await uow.session.execute(select(IdempotencyKey))).first() is None


async def test_expired_lock_is_taken_over_and_the_slow_holder_rolls_back(
    backend: str,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    behaviour: Behaviour,
    clock: FrozenClock,
) -> None:
    key = str(uuid.uuid4())
    gate = behaviour.gate = asyncio.Event()
    stuck = asyncio.create_task(post(client, key))
    await asyncio.wait_for(behaviour.entered.wait(), 10)  # it holds the claim now

    busy = await post(client, key)
    assert busy.status_code == 409
    assert problem(busy)["code"] == "IDEMPOTENCY_IN_FLIGHT"

    # The holder looks dead once its lock has run out: the next retry takes the key over.
    clock.advance(seconds=settings.idempotency_lock_secs + 1)
    behaviour.gate = None
    taken_over = await post(client, key)
    assert taken_over.status_code == 201
    assert REPLAYED_HEADER not in taken_over.headers

    # The original wakes up, finds its claim gone and must not commit a second effect.
    gate.set()
    late = await asyncio.wait_for(stuck, 10)
    assert late.status_code == 409
    assert problem(late)["code"] == "IDEMPOTENCY_IN_FLIGHT"
    assert await effects(db) == 1

    replay = await post(client, key)
    assert replay.headers[REPLAYED_HEADER] == "true"
    assert replay.json() == taken_over.json()


async def test_keys_expire_after_retention_and_are_purged(
    backend: str, db: Database, settings: Settings, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    key = str(uuid.uuid4())
    assert (await post(client, key, {"name": "soup"})).status_code == 201
    clock.advance(hours=settings.idempotency_ttl_hours, seconds=1)

    # Past retention the key is free again, even for a different request.
    fresh = await post(client, key, {"name": "stew"})
    assert fresh.status_code == 201
    assert REPLAYED_HEADER not in fresh.headers
    assert await effects(db) == 2

    other = str(uuid.uuid4())
    assert (await post(client, other)).status_code == 201
    clock.advance(hours=settings.idempotency_ttl_hours, seconds=1)
    async with db.unit_of_work(bypass_rls=True) as uow:
        assert await purge_expired(uow, utcnow()) == 2
    async with db.unit_of_work(bypass_rls=True) as uow:
        assert (await uow.session.execute(select(IdempotencyKey))).first() is None


async def test_different_callers_with_the_same_key_do_not_collide(
    backend: str, path: str, db: Database, client: httpx.AsyncClient
) -> None:
    key = str(uuid.uuid4())
    first = await post(client, key, user="user-a", path=path)
    second = await post(client, key, user="user-b", path=path)
    assert first.status_code == second.status_code == 201
    assert REPLAYED_HEADER not in second.headers
    assert first.json()["id"] != second.json()["id"]
    assert await effects(db) == 2


async def test_completion_is_audited(backend: str, db: Database, client: httpx.AsyncClient) -> None:
    key = str(uuid.uuid4())
    assert (await post(client, key)).status_code == 201
    async with db.unit_of_work(bypass_rls=True) as uow:
        entry = (
            await uow.session.execute(
                select(AuditLog).where(AuditLog.action == "idempotency.completed")
            )
        ).scalar_one()
    assert entry.tenant_id == TENANT
    assert entry.actor_id == "user-a"
    assert entry.after is not None
    assert entry.after["idempotency_key"] == key
    assert entry.after["status"] == 201


async def test_idempotent_route_without_a_policy_is_a_programming_error(
    backend: str, db: Database, settings: Settings, behaviour: Behaviour
) -> None:
    transport = httpx.ASGITransport(app=build_app(db, settings, behaviour))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        with pytest.raises(RuntimeError, match="policy"):
            await c.post("/unguarded", headers={"Idempotency-Key": "abc123"})


def test_fingerprint_is_canonical_json() -> None:
    assert fingerprint_body(b'{"b": 1, "a": [1, 2]}') == fingerprint_body(b'{"a":[1,2],"b":1}')
    assert fingerprint_body(b'{"a": 1}') != fingerprint_body(b'{"a": 1, "b": null}')
    assert fingerprint_body(b"") == fingerprint_body(b"  ")
    assert len(fingerprint_body(b"")) == 64


def test_routes_carry_the_idempotency_marker(db: Database, settings: Settings) -> None:
    app = build_app(db, settings, Behaviour())
    routes = {r.path: r for r in app.routes if isinstance(r, ServioRoute)}
    assert route_is_idempotent(routes["/things"])
