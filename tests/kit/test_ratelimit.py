"""Rate limits (PLAT-10) on both backends, the 429 contract, the auth-failure IP block and
client IP resolution behind trusted proxies."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request as StarletteRequest

from servio.auth.actors import StaffActor
from servio.config import Settings
from servio.kit.client_ip import client_ip
from servio.kit.clock import FrozenClock
from servio.kit.errors import install_error_handlers
from servio.kit.policy import RoutePolicy, mark_policy
from servio.kit.ratelimit import (
    ROUTE_CLASSES,
    MemoryRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    create_limiter,
    rate_limit,
    record_auth_failure,
    route_class_quotas,
    sliding_window,
)
from servio.kit.redis import create_redis
from servio.kit.routing import make_router
from tests.conftest import problem

PEER = "203.0.113.10"


LimiterFactory = Callable[[Settings], RateLimiter]


@pytest.fixture
async def make_limiter(
    backend: str, settings: Settings, redis_cleanup: None
) -> AsyncIterator[LimiterFactory]:
    """Redis when the run has one (`backend=postgresql` + SERVIO_TEST_REDIS_URL), else memory."""
    redis = create_redis(settings)

    def build(for_settings: Settings) -> RateLimiter:
        built = create_limiter(for_settings, redis)
        assert isinstance(built, RedisRateLimiter if redis is not None else MemoryRateLimiter)
        return built

    yield build
    if redis is not None:
        await redis.aclose()


@pytest.fixture
def limiter(make_limiter: LimiterFactory, settings: Settings) -> RateLimiter:
    return make_limiter(settings)


@mark_policy(RoutePolicy("public"))
async def open_door() -> None:
    return None


@mark_policy(RoutePolicy("staff", "refunds.create"))
async def as_staff(request: Request) -> None:
    request.state.actor = StaffActor(
        user_id=request.headers.get("x-user", "u1"),
        tenant_id="T",
        outlet_id=None,
        roles=(),
        permissions=frozenset(),
        session_id="s",
    )


def build_app(settings: Settings, limiter: RateLimiter) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.state.settings, app.state.limiter = settings, limiter
    app.state.db = None  # these routes never open a transaction
    router = make_router()

    @router.post(
        "/login", summary="Log in", dependencies=[Depends(open_door), Depends(rate_limit("login"))]
    )
    async def login(request: Request) -> dict[str, bool]:
        if request.headers.get("x-password") != "right":
            await record_auth_failure(request)
            return {"ok": False}
        return {"ok": True}

    @router.post(
        "/magic",
        summary="Magic link",
        dependencies=[Depends(open_door), Depends(rate_limit("magic_link"))],
    )
    async def magic(body: dict[str, Any]) -> dict[str, str]:
        return {"sent": body["email"]}

    @router.post(
        "/refunds",
        summary="Refund",
        dependencies=[Depends(as_staff), Depends(rate_limit("refunds"))],
    )
    async def refund() -> dict[str, bool]:
        return {"ok": True}

    app.include_router(router)
    return app


def client_for(app: FastAPI, peer: str = PEER) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


# --- the window arithmetic ----------------------------------------------------------------


@given(
    prev=st.integers(0, 60),
    curr=st.integers(0, 60),
    limit=st.integers(1, 50),
    elapsed=st.floats(0, 59.999),
    window=st.sampled_from([60, 3600]),
)
def test_retry_after_is_exactly_when_room_returns(
    prev: int, curr: int, limit: int, elapsed: float, window: int
) -> None:
    elapsed = elapsed * window / 60
    decision = sliding_window(prev, curr, limit, window, elapsed)
    if decision.allowed:
        assert prev * (window - elapsed) / window + curr + 1 <= limit
        return

    def allowed_after(wait: float) -> bool:
        at = elapsed + wait
        if at < window:
            return sliding_window(prev, curr, limit, window, at).allowed
        if at < 2 * window:
            return sliding_window(curr, 0, limit, window, at - window).allowed
        return True

    assert decision.retry_after >= 1
    assert allowed_after(decision.retry_after + 1e-6)  # the hint is honest …
    if decision.retry_after > 1:
        assert not allowed_after(decision.retry_after - 1 - 1e-6)  # … and tight


def test_every_route_class_has_quotas() -> None:
    quotas = route_class_quotas(Settings(_env_file=None))  # type: ignore[call-arg]
    assert set(quotas) == ROUTE_CLASSES
    assert [(q.limit, q.window_secs, q.per) for q in quotas["guest"]] == [
        (120, 60, "token"),
        (300, 60, "ip"),
    ]
    assert [(q.limit, q.window_secs, q.per) for q in quotas["magic_link"]] == [
        (2, 60, "ip"),
        (5, 3600, "email"),
    ]
    with pytest.raises(ValueError, match="unknown rate-limit class"):
        rate_limit("logn")


# --- both backends ------------------------------------------------------------------------


@pytest.mark.backends
async def test_limit_refuses_then_recovers_on_the_clock(
    backend: str, limiter: RateLimiter, clock: FrozenClock
) -> None:
    key = f"login:ip:{uuid.uuid4()}"
    for _ in range(10):
        assert (await limiter.hit(key, 10, 60)).allowed
    refused = await limiter.hit(key, 10, 60)
    assert not refused.allowed
    # Ten hits in the last window decay linearly: room for one more after 60 + 6 s.
    assert refused.retry_after == 66
    clock.advance(seconds=65)
    assert not (await limiter.hit(key, 10, 60)).allowed
    clock.advance(seconds=1)
    assert (await limiter.hit(key, 10, 60)).allowed
    assert (await limiter.hit(f"login:ip:{uuid.uuid4()}", 10, 60)).allowed  # other keys


@pytest.mark.backends
async def test_login_route_answers_429_with_retry_after(
    backend: str, settings: Settings, limiter: RateLimiter, clock: FrozenClock
) -> None:
    async with client_for(build_app(settings, limiter)) as c:
        for _ in range(settings.rate_login_per_ip_min):
            assert (await c.post("/login", headers={"X-Password": "right"})).status_code == 200
        refused = await c.post("/login", headers={"X-Password": "right"})
        body = problem(refused)
        assert refused.status_code == 429
        assert body["code"] == "RATE_LIMIT"
        assert body["hint"] == "retry in 66s"
        assert refused.headers["Retry-After"] == "66"

    # Another client IP has its own allowance.
    async with client_for(build_app(settings, limiter), peer="198.51.100.7") as other:
        assert (await other.post("/login", headers={"X-Password": "right"})).status_code == 200


@pytest.mark.backends
async def test_spoofed_forwarded_for_from_untrusted_peer_is_ignored(
    backend: str, settings: Settings, limiter: RateLimiter, clock: FrozenClock
) -> None:
    settings = settings.model_copy(
        update={"trust_proxy_headers": True, "trusted_proxy_ips": ["10.0.0.1"]}
    )
    async with client_for(build_app(settings, limiter)) as c:
        for n in range(settings.rate_login_per_ip_min):
            spoof = {"X-Forwarded-For": f"192.0.2.{n}", "X-Password": "right"}
            assert (await c.post("/login", headers=spoof)).status_code == 200
        spoof = {"X-Forwarded-For": "192.0.2.200", "X-Password": "right"}
        assert (await c.post("/login", headers=spoof)).status_code == 429
    # Behind the trusted proxy, each forwarded client has its own allowance.
    async with client_for(build_app(settings, limiter), peer="10.0.0.1") as proxy:
        for n in range(settings.rate_login_per_ip_min + 1):
            hop = {"X-Forwarded-For": f"192.0.2.{n}", "X-Password": "right"}
            assert (await proxy.post("/login", headers=hop)).status_code == 200


@pytest.mark.backends
async def test_magic_link_is_limited_per_email_across_ips(
    backend: str, settings: Settings, limiter: RateLimiter, clock: FrozenClock
) -> None:
    app = build_app(settings, limiter)
    for n in range(settings.rate_magic_link_per_email_hour):
        async with client_for(app, peer=f"198.51.100.{n + 1}") as c:
            ok = await c.post("/magic", json={"email": "Chef@Example.com"})
            assert ok.status_code == 200
    async with client_for(app, peer="198.51.100.99") as c:
        refused = await c.post("/magic", json={"email": " chef@example.com "})
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 60  # an hourly window
        assert (await c.post("/magic", json={"email": "sous@example.com"})).status_code == 200


@pytest.mark.backends
async def test_per_user_class_counts_each_user(
    backend: str, settings: Settings, limiter: RateLimiter, clock: FrozenClock
) -> None:
    settings = settings.model_copy(update={"rate_refunds_per_user_hour": 3})
    async with client_for(build_app(settings, limiter)) as c:
        for _ in range(3):
            assert (await c.post("/refunds", headers={"X-User": "alice"})).status_code == 200
        assert (await c.post("/refunds", headers={"X-User": "alice"})).status_code == 429
        assert (await c.post("/refunds", headers={"X-User": "bob"})).status_code == 200


@pytest.mark.backends
async def test_repeated_auth_failures_block_the_ip(
    backend: str, settings: Settings, make_limiter: LimiterFactory, clock: FrozenClock
) -> None:
    settings = settings.model_copy(
        update={"auth_failure_block_threshold": 5, "rate_login_per_ip_min": 1000}
    )
    app = build_app(settings, make_limiter(settings))
    async with client_for(app) as c:
        for _ in range(5):
            assert (await c.post("/login", headers={"X-Password": "wrong"})).json() == {"ok": False}
        blocked = await c.post("/login", headers={"X-Password": "right"})
        assert blocked.status_code == 429
        assert blocked.headers["Retry-After"] == str(settings.auth_failure_block_secs)
        # Routes outside the auth classes are not affected by the block.
        assert (await c.post("/refunds")).status_code == 200
        clock.advance(seconds=settings.auth_failure_block_secs)
        assert (await c.post("/login", headers={"X-Password": "right"})).status_code == 200


async def test_disabled_limits_never_refuse(settings: Settings, clock: FrozenClock) -> None:
    settings = settings.model_copy(update={"rate_limit_enabled": False})
    async with client_for(build_app(settings, MemoryRateLimiter(settings))) as c:
        for _ in range(settings.rate_login_per_ip_min + 5):
            assert (await c.post("/login", headers={"X-Password": "right"})).status_code == 200


# --- client IP --------------------------------------------------------------------------


def _request(peer: str, forwarded: list[str] | None = None) -> StarletteRequest:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded or []]
    return StarletteRequest({"type": "http", "client": (peer, 1234), "headers": headers})


def _proxy_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "trust_proxy_headers": True,
        "trusted_proxy_ips": ["10.0.0.1"],
        "trusted_proxy_cidrs": ["172.16.0.0/12", "fd00::/8"],
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_client_ip_ignores_headers_from_an_untrusted_peer() -> None:
    settings = _proxy_settings()
    assert client_ip(_request("203.0.113.9", ["1.2.3.4"]), settings) == "203.0.113.9"


def test_client_ip_ignores_headers_when_proxies_are_not_trusted() -> None:
    settings = _proxy_settings(trust_proxy_headers=False)
    assert client_ip(_request("10.0.0.1", ["1.2.3.4"]), settings) == "10.0.0.1"


def test_client_ip_takes_the_rightmost_untrusted_hop() -> None:
    settings = _proxy_settings()
    # The client prepended a fake address; the proxies appended the real ones.
    request = _request("10.0.0.1", ["6.6.6.6, 198.51.100.23", "172.20.1.5"])
    assert client_ip(request, settings) == "198.51.100.23"


def test_client_ip_normalises_ports_and_mapped_addresses() -> None:
    settings = _proxy_settings()
    assert client_ip(_request("10.0.0.1", ["198.51.100.23:4711"]), settings) == "198.51.100.23"
    assert client_ip(_request("fd00::1", ["[2001:db8::7]:443"]), settings) == "2001:db8::7"
    assert client_ip(_request("::ffff:10.0.0.1", ["192.0.2.4"]), settings) == "192.0.2.4"


def test_client_ip_stops_at_garbage_and_falls_back_to_the_last_trusted_hop() -> None:
    settings = _proxy_settings()
    assert client_ip(_request("10.0.0.1", ["not-an-ip, 172.16.0.9"]), settings) == "172.16.0.9"
    assert client_ip(_request("10.0.0.1", []), settings) == "10.0.0.1"
