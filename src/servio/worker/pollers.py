"""Pollers: work the worker checks on EVERY pass (schedules fire once per period; pollers
run each time round the loop), declared next to their domain in `<context>/tasks.py`:

    @poller("ordering.firing")
    async def fire_due(ctx: HandlerContext, now: datetime) -> int:
        ...  # claim due rows atomically, do the work, return how many were handled

A poller must be safe to run on any number of workers at once (claim rows with an atomic
UPDATE / lease, like the outbox) and open its own units of work. One failing poller is
logged and does not stop the others or the pass.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from servio.worker.handlers import HandlerContext

Poll = Callable[[HandlerContext, datetime], Awaitable[int]]


@dataclass(frozen=True)
class Poller:
    name: str
    run: Poll


class PollerRegistry:
    def __init__(self) -> None:
        self._pollers: dict[str, Poller] = {}

    def register(self, name: str) -> Callable[[Poll], Poll]:
        def decorate(run: Poll) -> Poll:
            existing = self._pollers.get(name)
            if existing is not None and existing.run is not run:
                raise ValueError(f"poller {name!r} is already registered")
            self._pollers[name] = Poller(name=name, run=run)
            return run

        return decorate

    def all(self) -> list[Poller]:
        return [self._pollers[name] for name in sorted(self._pollers)]

    def get(self, name: str) -> Poller | None:
        return self._pollers.get(name)


pollers = PollerRegistry()
poller = pollers.register
