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
from hypothesis.errors import Flaky
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.specs.openapi import stateful as stateful_openapi
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from servio.kit.policy import route_policies
from tests.security.conftest import LiveApp
from tests.soak import SOAK, record, size

EXAMPLES = size(25, 200)
STATEFUL_SEQUENCES = size(100, 1000)  # sequences of linked calls, each up to STATEFUL_STEPS
STATEFUL_STEPS = size(8, 15)
STATEFUL_ATTEMPTS = 5
MAINTENANCE_PATH = "/api/v1/provider/tenants/{tenant_id}/maintenance"
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
    """Headers per policy; the owner's session is reissued if a fuzzed call ended it (or it
    expired), the provider operator's when it expired."""

    def __init__(self, live: LiveApp) -> None:
        self.live = live
        self.owner = dict(live.owner_headers)
        self.provider = dict(live.provider_headers)

    def for_kind(self, kind: str) -> dict[str, str]:
        if kind in ("staff", "staff_or_device", "device"):
            return self.owner
        if kind == "provider":
            return self.provider
        if kind == "guest":
            return self.live.guest_headers
        return {}

    def seen(self, kind: str, response: httpx.Response) -> None:
        if kind in ("staff", "staff_or_device") and response.status_code == 401:
            self.owner = self.live.fresh_owner_headers()
        if kind == "provider" and expired(response):
            # Only for expiry: fuzzed credentials are 401s too, and logins are rate limited.
            self.provider = self.live.fresh_provider_headers()


def expired(response: httpx.Response) -> bool:
    if response.status_code != 401:
        return False
    body = response.json() if response.headers.get("content-type", "").endswith("json") else {}
    return isinstance(body, dict) and body.get("code") == "TOKEN_EXPIRED"


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
    # The coverage phase sends header values outside ASCII; on the wire they are bytes.
    kwargs["headers"] = {
        name: value.encode() if isinstance(value, str) and not value.isascii() else value
        for name, value in kwargs.get("headers", {}).items()
    }
    kwargs.pop("auth", None)
    kwargs.pop("timeout", None)
    kwargs.pop("verify", None)
    kwargs.pop("allow_redirects", None)
    return live.request(method, url, **kwargs)


def call(
    live: LiveApp,
    case: Any,
    route_kinds: dict[tuple[str, str], str],
    credentials: Credentials,
) -> httpx.Response:
    """Send `case` with the credential its route asks for; a guest route is the table's."""
    kind = route_kinds.get((case.method.upper(), case.path), "public")
    if kind == "guest":
        for name, value in (
            ("qr_token", live.bistro.token),
            ("session_id", live.session_id),
        ):
            if name in (case.path_parameters or {}):
                case.path_parameters[name] = value
    response = send(live, case, dict(credentials.for_kind(kind)))
    credentials.seen(kind, response)
    return response


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
    response = call(live, case, route_kinds, credentials)
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


def test_linked_operations_survive_stateful_fuzzing(
    live: LiveApp,
    route_kinds: dict[tuple[str, str], str],
    credentials: Credentials,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stateful phase: sequences of calls chained by the links Schemathesis infers from the
    OpenAPI (a created coupon's id into GET/PATCH/DELETE /coupons/{id}, an invoice's into
    its payments, void and split, ...), so fuzzing reaches objects that exist."""
    linked = schemathesis.openapi.from_dict(live.app.openapi()).exclude(path=list(SKIPPED))
    # Valid inputs only: a sequence goes on from a 2xx; invalid ones are the test above's.
    linked.config.generation.update(modes=[GenerationMode.POSITIVE], database="none")
    # Schemathesis starts sequences only from operations whose inputs it finds produced
    # elsewhere; ours take the outlet from the caller's token, so every create (POST) and
    # every list (GET without path parameters) is a starting point.
    monkeypatch.setattr(
        stateful_openapi,
        "is_likely_root_transition",
        lambda operation, node, produced: operation.method == "post"
        or (operation.method == "get" and not operation.path_parameters),
    )
    machine = linked.as_state_machine()
    links = linked.statistic.transitions.selected
    calls = 0
    failures: list[Exception] = []

    class Sequences(machine):  # type: ignore[misc, valid-type]
        rule_order_seed = 9  # start sequences from every producer, not the first by name

        def call(self, case: Any, **kwargs: Any) -> Response:
            nonlocal calls
            calls += 1
            response = call(live, case, route_kinds, credentials)
            if case.path == MAINTENANCE_PATH and response.status_code == 200:
                # Linked to a real tenant id, the provider may close our tenant for years:
                # every later call would be a (documented) 503. Reopen it at once.
                reopened = live.request(
                    "PUT",
                    MAINTENANCE_PATH.format(tenant_id=case.path_parameters["tenant_id"]),
                    json={"until": None},
                    headers=credentials.provider,
                )
                assert reopened.status_code == 200, reopened.text
            return Response.from_any(response)

        def validate_response(
            self, response: Response, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            try:
                case.validate_response(response, checks=CHECKS)
                assert response.status_code < 500
            except Exception as failure:
                failures.append(failure)
                raise

    run_settings = settings(
        max_examples=STATEFUL_SEQUENCES,
        stateful_step_count=STATEFUL_STEPS,
        deadline=None,
        derandomize=False,
        # No shrinking: a replay meets a server whose state moved on; a failure is reported
        # as the sequence that found it.
        phases=[Phase.generate],
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    for _ in range(STATEFUL_ATTEMPTS):
        try:
            Sequences.run(settings=run_settings)
            break
        except Flaky:
            # Hypothesis replayed a choice sequence and the live server (whose rows every
            # sequence changes) answered differently: Schemathesis's own runner counts
            # that as no failure and starts again; so do we, unless a check failed.
            if failures:
                raise failures[0] from None
    assert not failures
    assert calls >= STATEFUL_SEQUENCES
    record(
        "S1-stateful",
        live.backend,
        sequences=STATEFUL_SEQUENCES,
        max_steps=STATEFUL_STEPS,
        calls=calls,
        links=links,
        soak=SOAK,
    )
