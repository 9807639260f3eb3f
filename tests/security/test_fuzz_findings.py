"""Regressions for the defects the S1 Schemathesis run found: odd input is a 422 Problem,
never a 500, on SQLite and on PostgreSQL."""

from __future__ import annotations

from tests.conftest import problem
from tests.security.conftest import LiveApp

PROBLEM_JSON = "application/problem+json"
SOME_ID = "01J0000000000000000000000Z"


def test_printer_station_of_the_wrong_type_is_422(live: LiveApp) -> None:
    for method, url in (
        ("POST", "/api/v1/printers"),
        ("PATCH", f"/api/v1/printers/{SOME_ID}"),
    ):
        stations: tuple[object, ...] = ({}, 5, ["kitchen"])
        for station in stations:
            body = {"name": "Kitchen", "host": "192.168.1.50", "station": station}
            reply = live.request(method, url, json=body, headers=live.owner_headers)
            assert reply.status_code == 422, (method, station, reply.text)
            assert reply.headers["content-type"].startswith(PROBLEM_JSON)


def test_malformed_multipart_upload_is_422(live: LiveApp) -> None:
    boundary = "b0835104900191fe97bdc7b0743a0870"
    reply = live.request(
        "POST",
        "/api/v1/media",
        content=f"--{boundary}\r\n5e-324--{boundary}--\r\n".encode(),
        headers={
            **live.owner_headers,
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    assert reply.status_code == 422, reply.text
    assert reply.headers["content-type"].startswith(PROBLEM_JSON)


def test_nul_character_in_input_is_a_client_error(live: LiveApp) -> None:
    """PostgreSQL cannot store U+0000; the reply is a 422, not a crash."""
    reply = live.request(
        "PUT",
        f"/session/{live.session_id}/cart",
        json={"items": [{"menu_item_id": "\b\u0000", "qty": 1}]},
        headers=live.guest_headers,
    )
    assert reply.status_code == 422, reply.text
    body = problem(reply)
    if live.backend == "postgresql":
        assert body["code"] == "INVALID_TEXT"


def test_feedback_summary_of_year_one_is_422(live: LiveApp) -> None:
    """`from=0001-01-01` shifted to UTC overflowed `datetime` (found by the soak's coverage
    phase)."""
    for params in ({"from": "0001-01-01"}, {"to": "0001-01-05"}, {"to": "9999-12-31"}):
        reply = live.request(
            "GET", "/api/v1/feedback/summary", params=params, headers=live.owner_headers
        )
        assert reply.status_code == 422, (params, reply.text)
        assert problem(reply)["code"] == "INVALID_RANGE"
