"""The OpenAPI document documents errors as Problem and marks credentialed routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


async def test_every_reference_resolves_including_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    schemas = doc["components"]["schemas"]
    problem = schemas["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "code"}
    assert {"detail", "hint", "instance", "request_id", "errors"} <= problem["properties"].keys()
    refs = set(_refs(doc))
    assert "#/components/schemas/Problem" in refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in schemas, ref


async def test_routes_document_their_error_codes_and_credentials(
    client: httpx.AsyncClient,
) -> None:
    doc = (await client.get("/openapi.json")).json()
    ready = doc["paths"]["/readyz"]["get"]
    assert "NOT_READY" in ready["responses"]["503"]["description"]
    assert "security" not in ready
    override = doc["paths"]["/api/v1/provider/status"]["post"]
    [requirement] = override["security"]
    [scheme_name] = requirement
    scheme = doc["components"]["securitySchemes"][scheme_name]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    ops_paths = (
        "/health",
        "/healthz",
        "/ready",
        "/readyz",
        "/metrics",
        "/time/skew",
        "/status.json",
        "/api/v1/provider/status",
    )
    for path in ops_paths:
        for method, operation in doc["paths"][path].items():
            assert operation.get("summary"), f"{method.upper()} {path} lacks a summary"


async def test_idempotency_key_is_documented_as_required_where_it_is(
    client: httpx.AsyncClient,
) -> None:
    doc = (await client.get("/openapi.json")).json()
    keyed = {
        (method.upper(), path): parameter
        for path, operations in doc["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "header" and parameter["name"] == "Idempotency-Key"
    }
    assert {("POST", "/orders"), ("POST", "/api/v1/invoices/{invoice_id}/payments")} <= set(keyed)
    for parameter in keyed.values():
        assert parameter["required"] is True
        assert parameter["schema"]["maxLength"] == 128


async def test_maintenance_is_documented_where_it_can_answer(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    upload = doc["paths"]["/api/v1/media"]["post"]["responses"]["503"]["description"]
    assert "`STORAGE_UNAVAILABLE`" in upload
    assert "`MAINTENANCE`" in upload
    assert "`MAINTENANCE`" in doc["paths"]["/orders"]["post"]["responses"]["503"]["description"]
    assert "503" not in doc["paths"]["/api/v1/auth/login"]["post"]["responses"]  # exempt
