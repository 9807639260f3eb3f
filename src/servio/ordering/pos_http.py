"""The external POS over HTTP (ORD-02, seed 004 §3 step 5, §6, §8): the `external_pos`
kitchen adapter. The firing worker calls it for each attempt; the protocol is in
docs/external-pos.md.

Each attempt POSTs the station's order as JSON to the outlet's `external_pos_url` with

    Idempotency-Key: {order_id}:{station}     (the firing key: the same on every attempt)
    X-Servio-Timestamp: <unix seconds>
    X-Servio-Signature: sha256=<hex HMAC-SHA256(external_pos_secret, "<timestamp>.<body>")>

and reads the ticket number from the reply's JSON (`ticket_no`). Outcomes:

- 2xx → acknowledged (ticket_no from the reply; none → Servio numbers the ticket itself);
- 408, 409, 429, 5xx, timeouts and connection errors → retryable failures;
- other 4xx → refused (the request itself is wrong: staff are alerted; the firing stays
  `retrying` with capped back-off until fixed, cancelled or fired by hand).

A circuit breaker per POS URL (`kit.breaker`, kind `external_pos`) short-circuits a POS
that keeps failing: while it is open, attempts fail at once (retryable, no request, no
timeout), and after the cool-down one trial request probes it. Refusals (4xx) prove the
POS is up and do not count against it.

Settings are read per attempt (`FireRequest.outlet_settings`), so a changed URL, secret or
timeout applies to the next attempt without restarting anything.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from servio.config import Settings, get_settings
from servio.kit.breaker import BreakerConfig, CircuitBreaker
from servio.kit.logging import get_logger
from servio.ordering import firing as fire
from servio.ordering.firing import FireRequest, FireResult

log = get_logger(__name__)

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SIGNATURE_HEADER = "X-Servio-Signature"
TIMESTAMP_HEADER = "X-Servio-Timestamp"
ATTEMPT_HEADER = "X-Servio-Attempt"
IDEMPOTENCY_HEADER = "Idempotency-Key"
USER_AGENT = "Servio-POS-Adapter/1"

DEFAULT_TIMEOUT_SECS = 10.0
# Orders wait on the POS, so its breaker probes again sooner than a webhook's would:
# CB_COOLDOWN_SEC, but at most this long.
MAX_COOLDOWN_SECS = 30.0
TICKET_MAX_LEN = 32  # FiringJob.ticket_no
RETRYABLE_4XX = frozenset({408, 409, 429})


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Servio-Signature` value: `sha256=` + hex HMAC-SHA256 of `"<timestamp>.<body>"`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float | None = None,
    tolerance_secs: float = 300.0,
) -> bool:
    """What a receiver does (docs/external-pos.md): recompute, compare in constant time,
    and refuse stale timestamps (replays)."""
    try:
        sent = float(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance_secs:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def ticket_from_reply(response: httpx.Response) -> str | None:
    """`ticket_no` (string or number) from a JSON reply; None when absent or unusable."""
    try:
        data = response.json()
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    value = data.get("ticket_no")
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return text[:TICKET_MAX_LEN] or None


class DestinationRefused(ValueError):
    """The POS URL points somewhere a POS never is (SSRF guard)."""


def _check_address(address: IpAddress, *, allow_loopback: bool) -> None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        _check_address(address.ipv4_mapped, allow_loopback=allow_loopback)
        return
    if address.is_link_local:  # 169.254.0.0/16 holds the cloud metadata service
        raise DestinationRefused("link-local addresses are refused")
    if address.is_loopback and not allow_loopback:
        raise DestinationRefused("loopback addresses are refused outside development")
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        raise DestinationRefused("that address is not a POS")


async def check_destination(url: str, *, allow_loopback: bool) -> None:
    """Refuse URLs whose host is or resolves to link-local (metadata), unspecified,
    multicast or reserved space, and loopback outside dev/test. Private LAN ranges stay
    allowed (an on-premises POS). Raises `DestinationRefused`."""
    parsed = urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise DestinationRefused("the POS URL must be http(s)://host/…")
    host = parsed.hostname
    try:
        _check_address(ipaddress.ip_address(host), allow_loopback=allow_loopback)
        return
    except ValueError as exc:
        if isinstance(exc, DestinationRefused):
            raise
    if host.rstrip(".").lower() in ("localhost", "localhost.localdomain") and not allow_loopback:
        raise DestinationRefused("loopback addresses are refused outside development")
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, parsed.port or (443 if parsed.scheme == "https" else 80)
        )
    except OSError:
        return  # unresolvable: the request fails as a (retryable) connection error
    for info in infos:
        _check_address(ipaddress.ip_address(info[4][0]), allow_loopback=allow_loopback)


def _timeout(settings: Mapping[str, Any]) -> float:
    value = settings.get("external_pos_timeout_secs", DEFAULT_TIMEOUT_SECS)
    return float(value) if isinstance(value, int | float) and value > 0 else DEFAULT_TIMEOUT_SECS


def _status_detail(response: httpx.Response) -> str:
    reason = response.reason_phrase or ""
    snippet = response.text[:200].strip() if response.content else ""
    detail = f"POS answered {response.status_code} {reason}".strip()
    return f"{detail}: {snippet}" if snippet else detail


class HttpPos:
    """The `external_pos` adapter. Stateless but for its breaker (whose state lives in the
    process's breaker store: Redis when configured, so every worker shares it)."""

    name = fire.EXTERNAL_POS
    inline = False

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        breaker: CircuitBreaker | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._settings = settings
        self._breaker = breaker
        self._transport = transport

    @property
    def breaker(self) -> CircuitBreaker:
        if self._breaker is None:
            settings = self._settings or get_settings()
            self._breaker = CircuitBreaker(
                fire.EXTERNAL_POS,
                BreakerConfig.from_settings(
                    settings,
                    cooldown_secs=min(float(settings.cb_cooldown_sec), MAX_COOLDOWN_SECS),
                    # A trial is over when its request times out (at most 60 s).
                    trial_lease_secs=65.0,
                ),
            )
        return self._breaker

    def request_for(self, request: FireRequest, *, now: float | None = None) -> httpx.Request:
        """The signed HTTP request of one attempt (no I/O)."""
        config = request.outlet_settings
        url = str(config.get("external_pos_url") or "")
        secret = str(config.get("external_pos_secret") or "")
        body = orjson.dumps({**request.payload, "attempt": request.attempt})
        timestamp = str(int(time.time() if now is None else now))
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            IDEMPOTENCY_HEADER: request.firing_key,
            TIMESTAMP_HEADER: timestamp,
            ATTEMPT_HEADER: str(request.attempt),
        }
        if secret:
            headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
        return httpx.Request("POST", url, content=body, headers=headers)

    async def fire(self, request: FireRequest) -> FireResult:
        config = request.outlet_settings
        url = str(config.get("external_pos_url") or "")
        if not url:
            return FireResult.failure(
                "external_pos_url is not set for this outlet (settings), or turn EXTERNAL_POS "
                "off to use the built-in kitchen"
            )
        settings = self._settings or get_settings()
        try:
            await check_destination(url, allow_loopback=settings.app_env in ("dev", "test"))
        except DestinationRefused as exc:
            return FireResult.failure(f"external_pos_url refused: {exc}", retryable=False)
        breaker = self.breaker
        permit = await breaker.allow(url)
        if not permit.allowed:
            return FireResult.failure(
                f"POS circuit breaker {permit.state}: not called "
                f"(next probe in {max(permit.retry_after, 0):.0f}s)"
            )
        try:
            async with httpx.AsyncClient(
                timeout=_timeout(config), follow_redirects=False, transport=self._transport
            ) as client:
                response = await client.send(self.request_for(request))
        except httpx.TimeoutException:
            await breaker.record_failure(url)
            return FireResult.failure(f"POS did not answer within {_timeout(config):g}s")
        except httpx.HTTPError as exc:
            await breaker.record_failure(url)
            return FireResult.failure(f"POS unreachable: {type(exc).__name__}: {exc}"[:500])
        status = response.status_code
        if 200 <= status < 300:
            await breaker.record_success(url)
            return FireResult.ack(ticket_from_reply(response))
        if status == 409:  # the POS is busy with this key: alive, ask again later
            await breaker.record_success(url)
            return FireResult.failure(_status_detail(response))
        if status >= 500 or status in RETRYABLE_4XX:
            await breaker.record_failure(url)
            return FireResult.failure(_status_detail(response))
        # 3xx and other 4xx: the POS is up but will not take this request as sent.
        await breaker.record_success(url)
        return FireResult.failure(_status_detail(response), retryable=False)


adapter = fire.adapters.register(HttpPos())
