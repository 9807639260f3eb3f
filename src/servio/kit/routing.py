"""The request lifecycle for every API route: `ServioRoute` opens at most one unit of work
per request (lazily, on first `get_uow`), commits it after the endpoint returns and before
the response leaves, rolls it back on error, then runs after-commit callbacks.

This is the "one place commits" rule for HTTP. Idempotency hooks in here too, so the stored
reply is written in the same transaction as the effect it describes.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from servio.kit.db import Database, UnitOfWork


class RequestHook(Protocol):
    """Something that must see the response inside the transaction (idempotency)."""

    async def before_commit(self, uow: UnitOfWork, response: Response) -> None: ...

    async def on_error(self, exc: BaseException) -> None: ...


class RequestContext:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.uow: UnitOfWork | None = None
        self._session_cm: Any = None
        self._tx: Any = None
        self.tenant_id: str | None = None
        self.bypass_rls = False
        self.hooks: list[RequestHook] = []

    async def open(self) -> UnitOfWork:
        if self.uow is None:
            session = self.db.sessionmaker()
            self._session_cm = session
            self._tx = await session.begin()
            self.uow = UnitOfWork(session)
            if self.tenant_id is not None or self.bypass_rls:
                await self.uow.set_tenant(self.tenant_id, bypass=self.bypass_rls)
        return self.uow

    async def scope_tenant(self, tenant_id: str | None, *, bypass: bool = False) -> None:
        self.tenant_id, self.bypass_rls = tenant_id, bypass
        if self.uow is not None:
            await self.uow.set_tenant(tenant_id, bypass=bypass)

    async def commit(self) -> None:
        if self._tx is not None:
            await self._tx.commit()

    async def rollback(self) -> None:
        if self._tx is not None and self._tx.is_active:
            await self._tx.rollback()

    async def close(self) -> None:
        if self._session_cm is not None:
            await self._session_cm.close()
            self._session_cm = None
            self._tx = None

    async def release(self) -> None:
        """Commit what the request did so far, run its after-commit work and give the
        connection back before slow outside I/O (SQLite's open transaction would hold the
        write lock meanwhile). A later `get_uow` opens a fresh transaction, which the route
        still commits once at the end."""
        finished = self.uow
        await self.commit()
        await self.close()
        self.uow = None
        if finished is not None:
            await finished.run_after_commit()


def request_context(request: Request) -> RequestContext:
    ctx = getattr(request.state, "servio_ctx", None)
    if ctx is None:
        ctx = RequestContext(request.app.state.db)
        request.state.servio_ctx = ctx
    return ctx


async def get_uow(request: Request) -> UnitOfWork:
    """FastAPI dependency: the request's unit of work (opened on first use)."""
    return await request_context(request).open()


class EarlyResponse(Exception):
    """Raised by a dependency that already knows the reply (an idempotent replay)."""

    def __init__(self, response: Response) -> None:
        self.response = response


class ServioRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            ctx = request_context(request)
            try:
                try:
                    response = await handler(request)
                except EarlyResponse as early:
                    await ctx.rollback()
                    return early.response
                if ctx.uow is not None:
                    for hook in ctx.hooks:
                        await hook.before_commit(ctx.uow, response)
                    await ctx.commit()
            except BaseException as exc:
                await ctx.rollback()
                # Give the connection back before a hook opens its own (idempotency stores
                # the refusal in a fresh transaction): holding both under a burst of
                # failing requests would drain the pool and stall every request.
                await ctx.close()
                for hook in ctx.hooks:
                    await hook.on_error(exc)
                raise
            finally:
                await ctx.close()
            if ctx.uow is not None:
                await ctx.uow.run_after_commit()
            return response

        return run


def make_router(**kwargs: Any) -> APIRouter:
    """Every context's router: routes get the unit-of-work lifecycle above."""
    return APIRouter(route_class=ServioRoute, **kwargs)
