"""OpenAPI additions: the shared `Problem` schema every documented error response refers
to (`kit.errors.problem_responses`), the bearer security scheme, and per-operation
`security` for routes whose policy needs credentials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

from servio.auth.dependencies import public
from servio.kit.errors import problem_responses
from servio.kit.idempotency import IDEMPOTENCY_HEADER, KEY_REGEX, MAX_KEY_LENGTH
from servio.kit.policy import route_policies
from servio.kit.routing import make_router
from servio.ops.maintenance import is_exempt

# Swagger UI and ReDoc bundles shipped inside the fastapi-offline wheel, served by us.
DOCS_ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
DOCS_ASSETS_PATH = "/docs-assets"

BEARER_SCHEME = "bearerAuth"

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 Problem Details. `code` is stable and machine-readable; "
    "extra members may follow (for example `checks` on `NOT_READY`).",
    "type": "object",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {
            "type": "string",
            "format": "uri",
            "example": "https://servio.dev/problems/not-found",
        },
        "title": {"type": "string", "example": "Not Found"},
        "status": {"type": "integer", "example": 404},
        "detail": {"type": "string", "example": "order not found"},
        "code": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$", "example": "NOT_FOUND"},
        "hint": {"type": "string"},
        "instance": {"type": "string", "example": "/api/v1/orders/01JD3Q5ZK7M0V6Y2T4X8N1B9CE"},
        "request_id": {"type": "string", "example": "01JD3Q5ZK7M0V6Y2T4X8N1B9CE"},
        "errors": {
            "type": "array",
            "description": "failing fields of a `VALIDATION_ERROR`",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": "string"}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}


def _needs_credentials(route: APIRoute) -> bool:
    policies = route_policies(route)
    return bool(policies) and all(policy.kind != "public" for policy in policies)


def _document_framework_errors(paths: dict[str, Any]) -> None:
    """Errors every operation of a kind can answer before its handler runs: a request body
    that is not parsable JSON is `400 BAD_REQUEST` (the body's schema covers the rest)."""
    for operations in paths.values():
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                responses = operation.setdefault("responses", {})
                if "400" not in responses:
                    responses["400"] = problem_responses((400, "BAD_REQUEST"))[400]


def _document_maintenance(paths: dict[str, Any]) -> None:
    """Every operation outside `MAINTENANCE_EXEMPT` answers `503 MAINTENANCE` (with
    Retry-After) during platform maintenance or its tenant's maintenance window."""
    for path, operations in paths.items():
        if is_exempt(path):
            continue
        for operation in operations.values():
            if isinstance(operation, dict):
                responses = operation.setdefault("responses", {})
                if "503" not in responses:
                    responses["503"] = problem_responses((503, "MAINTENANCE"))[503]
                elif "`MAINTENANCE`" not in responses["503"].get("description", ""):
                    responses["503"]["description"] += " · `MAINTENANCE`"


def _document_idempotency_keys(paths: dict[str, Any]) -> None:
    """The `Idempotency-Key` header is optional to FastAPI only so that a missing key is our
    `400 IDEMPOTENCY_KEY_REQUIRED`, not a generic 422; to clients it is required."""
    for operations in paths.values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "header" and parameter.get("name") == IDEMPOTENCY_HEADER:
                    parameter["required"] = True
                    parameter["schema"] = {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": MAX_KEY_LENGTH,
                        "pattern": f"^{KEY_REGEX}$",
                        "title": IDEMPOTENCY_HEADER,
                    }


def enrich_openapi(schema: dict[str, Any], routes: list[Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    schemes = components.setdefault("securitySchemes", {})
    # Reuse a bearer scheme FastAPI already emitted (from `HTTPBearer` dependencies).
    bearer = next(
        (
            name
            for name, scheme in schemes.items()
            if scheme.get("type") == "http" and scheme.get("scheme") == "bearer"
        ),
        None,
    )
    if bearer is None:
        bearer = BEARER_SCHEME
        schemes[bearer] = {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "staff access, device, provider or guest member token",
        }
    paths = schema.get("paths", {})
    _document_framework_errors(paths)
    _document_idempotency_keys(paths)
    _document_maintenance(paths)
    for route in routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        if not _needs_credentials(route):
            continue
        for method in route.methods:
            operation = paths.get(route.path_format, {}).get(method.lower())
            if operation is not None:
                operation.setdefault("security", [{bearer: []}])
    return schema


def install_openapi(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = enrich_openapi(generate(), list(app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _with_nonce(page: HTMLResponse, request: Request) -> HTMLResponse:
    nonce = getattr(request.state, "csp_nonce", "")
    html = bytes(page.body).decode().replace("<script>", f'<script nonce="{nonce}">')
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def _docs_router(app: FastAPI) -> Any:
    router = make_router(include_in_schema=False, dependencies=[Depends(public)])

    @router.get("/docs", summary="Interactive API documentation (Swagger UI)")
    async def swagger_ui(request: Request) -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API docs",
            swagger_js_url=f"{DOCS_ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS_PATH}/favicon.png",
        )
        return _with_nonce(page, request)

    @router.get("/redoc", summary="API reference (ReDoc)")
    async def redoc(request: Request) -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API reference",
            redoc_js_url=f"{DOCS_ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS_PATH}/favicon.png",
            with_google_fonts=False,
        )
        return _with_nonce(page, request)

    return router


def install_docs(app: FastAPI) -> None:
    """`/docs` and `/redoc` without any CDN (call with FastAPI's own docs switched off)."""
    app.mount(DOCS_ASSETS_PATH, StaticFiles(directory=DOCS_ASSETS_DIR), name="docs-assets")
    app.include_router(_docs_router(app))
