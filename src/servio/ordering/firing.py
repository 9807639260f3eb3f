"""Kitchen adapters: how an order's lines for one station reach the kitchen (seed 004 §3
step 5, §8 "POS API lag").

An adapter takes a `FireRequest` and answers a `FireResult`: acknowledged (with the ticket
number the kitchen/POS gave) or failed (retryable or not, with a reason). Every attempt of a
firing carries the same `firing_key` (`{order_id}:{station}`) so the receiver can drop
repeats. Adapters are registered by name:

    adapters.register(MyPosAdapter())          # name "external_pos", inline False

- `builtin` (inline): the built-in kitchen. It acknowledges inside the `POST /orders`
  transaction, so the reply already says `acked` with the order's ticket number.
- `external_pos` (`ordering.pos_http.HttpPos`, registered when `ordering.tasks` is
  imported — i.e. in every worker): called by the firing worker, never by the request.
  Without a registered adapter, firings for outlets with the `EXTERNAL_POS` flag stay
  `retrying` with a clear `last_error` — never dropped.

Also here, pure: the retry back-off (`backoff_delay`).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable

BUILTIN = "builtin"
EXTERNAL_POS = "external_pos"

# Seed 004: "POS ACK in ≤ 3 s". How long an attempt waits for the acknowledgement, and how
# long a firing may stay `pending` before the watchdog turns it `retrying` and the table
# sees "checking with kitchen". Module constants so tests can shrink them.
ACK_TIMEOUT_SECS = 3.0
WATCHDOG_SECS = 3.0
# How long a worker holds a firing it is attempting (then another worker may take it).
LEASE_SECS = 30.0
# Back-off between attempts: 1 s, 2 s, 4 s … capped at 60 s, with jitter.
BACKOFF_BASE_SECS = 1.0
BACKOFF_CAP_SECS = 60.0


@dataclass(frozen=True)
class FireRequest:
    firing_key: str
    order_id: str
    station: str
    tenant_id: str
    outlet_id: str
    payload: dict[str, Any]
    attempt: int = 1
    # The order's ticket number when Servio numbers tickets (the built-in kitchen).
    ticket_no: str | None = None
    # The outlet's effective settings (`platform.get_effective_settings`), read by the
    # worker for each attempt, so adapters configured per outlet (the HTTP POS: URL, secret,
    # timeout) see changes at once. Empty for inline adapters. Holds secrets: never logged.
    outlet_settings: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class FireResult:
    acked: bool
    ticket_no: str | None = None
    retryable: bool = True
    detail: str = ""

    @classmethod
    def ack(cls, ticket_no: str | None) -> FireResult:
        return cls(acked=True, ticket_no=ticket_no)

    @classmethod
    def failure(cls, detail: str, *, retryable: bool = True) -> FireResult:
        return cls(acked=False, retryable=retryable, detail=detail)


@runtime_checkable
class KitchenAdapter(Protocol):
    """Sends a firing. `inline` adapters answer at once and are called inside the order's
    transaction; the others are called by the worker with an ACK timeout."""

    @property
    def name(self) -> str: ...

    @property
    def inline(self) -> bool: ...

    async def fire(self, request: FireRequest) -> FireResult: ...


class BuiltinKitchen:
    """The built-in kitchen (KDS): the order's lines are already in the database, so
    accepting the ticket is immediate; the ticket number is the order's own."""

    name = BUILTIN
    inline = True

    async def fire(self, request: FireRequest) -> FireResult:
        return FireResult.ack(request.ticket_no)


@dataclass
class AdapterRegistry:
    _adapters: dict[str, KitchenAdapter] = field(default_factory=dict)

    def register(self, adapter: KitchenAdapter) -> KitchenAdapter:
        existing = self._adapters.get(adapter.name)
        if existing is not None and existing is not adapter:
            raise ValueError(f"a kitchen adapter named {adapter.name!r} is already registered")
        self._adapters[adapter.name] = adapter
        return adapter

    def unregister(self, name: str) -> None:
        self._adapters.pop(name, None)

    def get(self, name: str) -> KitchenAdapter | None:
        return self._adapters.get(name)

    def names(self) -> list[str]:
        return sorted(self._adapters)

    @contextmanager
    def override(self, adapter: KitchenAdapter) -> Iterator[KitchenAdapter]:
        """Register `adapter` for the block, restoring what was there before (tests)."""
        previous = self._adapters.get(adapter.name)
        self._adapters[adapter.name] = adapter
        try:
            yield adapter
        finally:
            if previous is None:
                self._adapters.pop(adapter.name, None)
            else:
                self._adapters[adapter.name] = previous


adapters = AdapterRegistry()
adapters.register(BuiltinKitchen())


def adapter_name(external_pos_enabled: bool) -> str:
    """Which adapter an outlet fires through."""
    return EXTERNAL_POS if external_pos_enabled else BUILTIN


def missing_adapter_error(name: str) -> str:
    return (
        f"no kitchen adapter is registered as {name!r}; the order is kept and retried "
        "(turn EXTERNAL_POS off to use the built-in kitchen, or fire it manually)"
    )


def backoff_delay(
    retry_count: int,
    *,
    jitter: float | None = None,
    base: float = BACKOFF_BASE_SECS,
    cap: float = BACKOFF_CAP_SECS,
) -> timedelta:
    """Wait before attempt `retry_count + 1`: `base · 2^(retry_count - 1)` capped at `cap`,
    scaled by a jitter factor in [0.5, 1] ("equal jitter", so retries of many orders after
    an outage spread out but never wait longer than the cap). `jitter` in [0, 1) picks the
    factor; None draws one."""
    if retry_count < 1:
        retry_count = 1
    if jitter is None:
        jitter = random.random()  # noqa: S311 - spreading retries, not security
    draw = min(max(jitter, 0.0), 1.0)
    exponent = min(retry_count - 1, 62)  # 2**62 s is far past any cap
    delay = min(cap, base * float(2**exponent))
    return timedelta(seconds=delay * (0.5 + 0.5 * draw))
