"""Collects every context's router. Each context exposes `router` from `endpoints.py`."""

from __future__ import annotations

from fastapi import APIRouter


def build_api_router() -> APIRouter:
    from servio.audit.endpoints import router as audit_router
    from servio.auth.endpoints import router as auth_router
    from servio.ops.endpoints import router as ops_router
    from servio.platform.endpoints import router as platform_router
    from servio.realtime.endpoints import router as realtime_router
    from servio.web.endpoints import router as web_router
    from servio.worker.endpoints import router as worker_router

    root = APIRouter()
    for router in (
        ops_router,
        auth_router,
        platform_router,
        audit_router,
        worker_router,
        realtime_router,
        web_router,
    ):
        root.include_router(router)
    return root
