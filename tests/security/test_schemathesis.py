"""S1: Schemathesis over every operation of the real app's OpenAPI document.

Each operation gets its documented examples and `size(5, 200)` generated requests (valid and
invalid inputs), plus under `make soak` Schemathesis's coverage phase; all are sent to
the live app with the credential its route policy asks for: the owner's Bearer token for
staff routes, the provider operator's for provider routes, and for guest routes the member
token of a guest who really scanned the table's QR code (guest path parameters `qr_token`
and `session_id` are that table's). Every reply must be no server error, carry a status the
operation documents, and match the documented response schema.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from servio.kit.policy import route_policies
from tests.security.conftest import LiveApp
from tests.soak import SOAK, record, size

EXAMPLES = size(5, 200)
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]

# Operations not fuzzed here, with the reason.
SKIPPED: dict[str, str] = {
    "/api/v1/events/stream": "a server-sent event stream never ends (tests/realtime cover it)",
    "/api/v1/admin/integrations/{channel}/probe": "calls the outside world (DNS, HTTP) with "
    "network timeouts; tests/notifications cover it against local receivers",
}


def policies(live: LiveApp) -> dict[tuple[str, str], str]:
    """(METHOD, path template) → the route's policy kind."""
    found: dict[tuple[str, str], str] = {}
    for route in live.app.routes:
        if isinstance(route, APIRoute):
            kinds = {p.kind for p in route_policies(route)}
            for method in route.methods:
                found[(method, route.path)] = next(iter(kinds)) if len(kinds) == 1 else "public"
    return found


@pytest.fixture(scope="module")
def route_kinds(live: LiveApp) -> dict[tuple[str, str], str]:
    return policies(live)


@pytest.fixture(scope="module")
def api_schema(live: LiveApp) -> Any:
    schema = schemathesis.openapi.from_dict(live.app.openapi())
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=EXAMPLES,
        deterministic=True,
        database="none",
    )
    # The coverage phase (systematic boundary values, missing and null parameters, other
    # methods: about 3/4 of a run's requests) runs under `make soak`; `make test` keeps each
    # operation's documented examples and the positive and negative fuzzing.
    schema.config.phases.coverage.enabled = SOAK
    return schema


class Credentials:
    """Headers per policy; the owner's session is reissued if a fuzzed call ended it."""

    def __init__(self, live: LiveApp) -> None:
        self.live = live
        self.owner = dict(live.owner_headers)

    def for_kind(self, kind: str) -> dict[str, str]:
        if kind in ("staff", "staff_or_device", "device"):
            return self.owner
        if kind == "provider":
            return self.live.provider_headers
        if kind == "guest":
            return self.live.guest_headers
        return {}

    def seen(self, kind: str, response: httpx.Response) -> None:
        if kind in ("staff", "staff_or_device") and response.status_code == 401:
            self.owner = self.live.fresh_owner_headers()


@pytest.fixture(scope="module")
def credentials(live: LiveApp) -> Credentials:
    return Credentials(live)


def send(live: LiveApp, case: Any, headers: dict[str, str]) -> httpx.Response:
    """Serialize the case like Schemathesis's own transport and send it through httpx."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    method = kwargs.pop("method")
    url = kwargs.pop("url")
    data = kwargs.pop("data", None)
    files = kwargs.pop("files", None)
    if files:
        # Multipart: encode it exactly as Schemathesis's requests transport would (it also
        # sends odd parts, e.g. a number where a file belongs, as their text).
        prepared = requests.PreparedRequest()
        prepared.prepare_headers(None)
        prepared.prepare_body(data, files)
        kwargs["content"] = prepared.body
        kwargs["headers"] = {
            **kwargs.get("headers", {}),
            "Content-Type": prepared.headers["Content-Type"],
        }
    elif isinstance(data, bytes | str):
        kwargs["content"] = data
    elif data is not None:
        kwargs["data"] = data
    cookies = kwargs.pop("cookies", None)
    if cookies:
        kwargs["headers"] = {
            **kwargs.get("headers", {}),
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        }
    kwargs.pop("auth", None)
    kwargs.pop("timeout", None)
    kwargs.pop("verify", None)
    kwargs.pop("allow_redirects", None)
    return live.request(method, url, **kwargs)


# Filters belong on the lazy schema: it, not the fixture's schema, picks the operations.
schema = schemathesis.pytest.from_fixture("api_schema").exclude(path=list(SKIPPED))
if os.environ.get("SERVIO_FUZZ_PATHS"):  # a regex, to reproduce one failure quickly
    schema = schema.include(path_regex=os.environ["SERVIO_FUZZ_PATHS"])


@schema.parametrize()
@settings(
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_survives_fuzzing(
    case: Any, live: LiveApp, route_kinds: dict[tuple[str, str], str], credentials: Credentials
) -> None:
    method = case.method.upper()
    kind = route_kinds.get((method, case.path), "public")
    if kind == "guest":
        for name, value in (
            ("qr_token", live.bistro.token),
            ("session_id", live.session_id),
        ):
            if name in (case.path_parameters or {}):
                case.path_parameters[name] = value
    headers = dict(credentials.for_kind(kind))
    response = send(live, case, headers)
    credentials.seen(kind, response)
    case.validate_response(response, checks=CHECKS)
    assert response.status_code < 500


def test_every_documented_operation_is_fuzzed(live: LiveApp, api_schema: Any) -> None:
    """Schemathesis loads every documented operation; only `SKIPPED` ones are left out."""
    documented = {
        (method.upper(), path)
        for path, operations in live.app.openapi()["paths"].items()
        for method in operations
    }
    loaded = {(op.method.upper(), op.path) for op in _operations(api_schema)}
    assert loaded == documented
    assert set(SKIPPED) <= {path for _, path in documented}  # no stale exemption
    fuzzed = {(m, p) for m, p in documented if p not in SKIPPED}
    record("S1", live.backend, operations=len(fuzzed), examples_per_operation=EXAMPLES, soak=SOAK)


def _operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]
