"""OpenAPI additions: the shared `Problem` schema every documented error response refers
to (`kit.errors.problem_responses`), the bearer security scheme, and per-operation
`security` for routes whose policy needs credentials."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from servio.kit.policy import route_policies

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
