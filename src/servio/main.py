"""`create_app()`: settings, database, Redis, pub/sub, rate limiter, middleware, routers,
and — in embedded mode — the worker loop, all owned by the app's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import ORJSONResponse

from servio import __version__
from servio.api import build_api_router
from servio.config import Settings, get_settings
from servio.guest.fastpath import install_guest_fastpath
from servio.kit import breaker
from servio.kit.db import Database, database_from_settings
from servio.kit.errors import install_error_handlers
from servio.kit.logging import configure_logging
from servio.kit.ratelimit import create_limiter
from servio.kit.redis import create_redis
from servio.kit.storage import create_storage
from servio.ops.metrics import install_metrics
from servio.ops.middleware import install_middleware
from servio.ops.openapi import install_docs, install_openapi
from servio.realtime.pubsub import create_pubsub
from servio.web.pages import install_web
from servio.worker.runner import Worker


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    run_worker: bool | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    embedded_worker = settings.embedded_worker if run_worker is None else run_worker

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = database or database_from_settings(settings)
        redis = create_redis(settings)
        pubsub = create_pubsub(settings, redis)
        app.state.db = db
        app.state.redis = redis
        app.state.pubsub = pubsub
        app.state.limiter = create_limiter(settings, redis)
        breaker.install_store(breaker.create_store(settings, redis))
        app.state.storage = create_storage(settings)
        await pubsub.start()
        worker = Worker(db, settings, pubsub=pubsub) if embedded_worker else None
        app.state.worker = worker
        if worker is not None:
            await worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            await pubsub.close()
            breaker.reset_store()
            if redis is not None:
                await redis.aclose()
            if database is None:
                await db.dispose()

    app = FastAPI(
        title="Servio API",
        version=__version__,
        description="Point of sale and QR ordering for hospitality venues. "
        "Errors are RFC 9457 Problem Details with a stable `code`.",
        lifespan=lifespan,
        default_response_class=ORJSONResponse,
        docs_url=None,  # served offline by install_docs()
        redoc_url=None,
    )
    app.state.settings = settings
    install_error_handlers(app)
    install_middleware(app, settings)
    install_guest_fastpath(app, settings)  # outermost: answers repeat menu GETs by itself
    install_metrics(app, settings)
    app.include_router(build_api_router())
    install_docs(app)
    install_web(app, settings)
    install_openapi(app)
    return app
