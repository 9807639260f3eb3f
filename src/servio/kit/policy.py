"""Route policies: every route declares who may call it (public, guest, staff with a
permission, device, provider) and whether it needs an `Idempotency-Key`.

A policy is declared by depending on a callable marked with `mark_policy` (the concrete
dependencies live in `servio.auth.dependencies`); `tests/test_route_policies.py` walks the
route table and fails for any route without exactly one declared policy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute

PolicyKind = Literal["public", "guest", "staff", "device", "staff_or_device", "provider"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class RoutePolicy:
    kind: PolicyKind
    permission: str | None = None

    def describe(self) -> str:
        return self.kind if self.permission is None else f"{self.kind}:{self.permission}"


POLICY_ATTR = "__servio_policy__"
IDEMPOTENT_ATTR = "__servio_idempotent__"


def mark_policy(policy: RoutePolicy) -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        setattr(fn, POLICY_ATTR, policy)
        return fn

    return decorate


def _walk(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _walk(dep)


def route_policies(route: APIRoute | APIWebSocketRoute) -> list[RoutePolicy]:
    """Distinct policies declared anywhere in the route's dependency tree."""
    found: list[RoutePolicy] = []
    for call in _walk(route.dependant):
        policy = getattr(call, POLICY_ATTR, None)
        if isinstance(policy, RoutePolicy) and policy not in found:
            found.append(policy)
    return found


def route_is_idempotent(route: APIRoute) -> bool:
    return any(getattr(call, IDEMPOTENT_ATTR, False) for call in _walk(route.dependant))
