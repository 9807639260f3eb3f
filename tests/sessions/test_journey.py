"""Seed 004's happy path over HTTP: scan → join → shared cart → a late joiner sees it all."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servio.auth.tokens import decode_guest_token
from servio.config import Settings
from servio.sessions.endpoints import prefers_html
from servio.sessions.schemas import GuestSessionRead, GuestSessionView, TableCartRead
from tests.conftest import problem
from tests.sessions.conftest import JSON, Venue, bearer, joined, put_cart, scan, scanned

pytestmark = pytest.mark.backends


async def test_the_seed_004_happy_path(
    backend: str, client: httpx.AsyncClient, venue: Venue, settings: Settings
) -> None:
    # 1 · Scan: a new session, a guest token scoped to it, nothing on the table yet.
    first = await scan(client, venue.token)
    assert first.status_code == 201, first.text
    assert first.headers["cache-control"] == "no-store"
    body = first.json()
    GuestSessionRead.model_validate(body)
    session_id = body["session_id"]
    assert body["session_state"] == "active"
    assert body["payment_status"] == "unpaid"
    assert body["table"] == {"id": venue.table_id, "kind": "table", "label": "T4"}
    assert body["outlet"]["name"] == "Spice Route Bistro"
    assert (body["members"], body["orders"]) == ([], [])
    assert (body["cart"]["members"], body["cart"]["subtotal"]) == ([], 0)
    assert (body["daily_pass_required"], body["pass_validated"]) == (False, False)
    claims = decode_guest_token(settings, body["guest_token"])
    assert (claims.session_id, claims.tenant_id, claims.member_id) == (
        session_id,
        venue.tenant_id,
        None,
    )

    # 2 · A second phone scans the same table: 200, the same session, its own token.
    second = await scanned(client, venue.token, status=200)
    assert second["session_id"] == session_id
    assert second["guest_token"] != body["guest_token"]

    # 3 · Both join with nicknames: the first is the host.
    asha = await joined(client, body["guest_token"], session_id, "  Asha  ")
    ravi = await joined(client, second["guest_token"], session_id, "Ravi")
    assert (asha["is_host"], ravi["is_host"]) == (True, False)
    assert decode_guest_token(settings, asha["member_token"]).member_id == asha["member_id"]

    # 4 · Each puts their own lines; the reply is the whole table's cart, priced by the server.
    mine = await put_cart(
        client, asha["member_token"], session_id, [venue.paneer(2, "Hot", note="extra mint")]
    )
    assert mine.status_code == 200, mine.text
    theirs = await put_cart(
        client,
        ravi["member_token"],
        session_id,
        [
            venue.lassi(1),
            {
                **venue.paneer(1),
                "modifiers": [venue.modifiers["Mild"]] + [venue.modifiers["Extra cheese"]] * 2,
            },
        ],
    )
    assert theirs.status_code == 200, theirs.text
    cart = TableCartRead.model_validate(theirs.json())
    assert [(g.nickname, g.is_host) for g in cart.members] == [("Asha", True), ("Ravi", False)]
    asha_lines, ravi_lines = cart.members[0].lines, cart.members[1].lines
    assert [(line.name, line.qty, line.unit_price, line.note) for line in asha_lines] == [
        ("Paneer Tikka", 2, 28000, "extra mint")
    ]
    assert [m.name for m in asha_lines[0].modifiers] == ["Hot"]
    assert [(line.name, line.unit_price, line.line_total) for line in ravi_lines] == [
        ("Mango Lassi", 12000, 12000),
        ("Paneer Tikka", 28000 + 2 * 4000, 36000),
    ]
    assert cart.subtotal == 56000 + 12000 + 36000
    assert cart.item_count == 4

    # Asha changes her mind: only her lines change, Ravi's stay.
    again = await put_cart(client, asha["member_token"], session_id, [venue.lassi(3)])
    assert [g.nickname for g in TableCartRead.model_validate(again.json()).members] == [
        "Asha",
        "Ravi",
    ]
    assert again.json()["members"][1]["lines"] == theirs.json()["members"][1]["lines"]
    assert again.json()["subtotal"] == 36000 + 12000 + 36000

    # 5 · A late joiner scans: the same session with everyone and the live cart.
    late = await scanned(client, venue.token, status=200)
    assert late["session_id"] == session_id
    assert [(m["nickname"], m["is_host"]) for m in late["members"]] == [
        ("Asha", True),
        ("Ravi", False),
    ]
    assert late["cart"] == again.json()
    kiran = await joined(client, late["guest_token"], session_id, "Kiran")
    assert kiran["is_host"] is False

    # The reconnect re-read shows the same, without a new credential.
    reread = await client.get(f"/session/{session_id}", headers=bearer(kiran["member_token"]))
    assert reread.status_code == 200, reread.text
    view = reread.json()
    GuestSessionView.model_validate(view)
    assert "guest_token" not in view
    assert [m["nickname"] for m in view["members"]] == ["Asha", "Ravi", "Kiran"]
    assert view["cart"] == late["cart"]


async def test_the_cart_can_be_emptied_and_a_guest_token_cannot_edit_it(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    body = await scanned(client, venue.token)
    member = await joined(client, body["guest_token"], body["session_id"], "Asha")
    assert (
        await put_cart(client, member["member_token"], body["session_id"], [venue.lassi()])
    ).json()["subtotal"] == 12000
    emptied = await put_cart(client, member["member_token"], body["session_id"], [])
    assert emptied.status_code == 200
    assert (emptied.json()["members"], emptied.json()["subtotal"]) == ([], 0)
    # Before joining there is no member whose lines these would be.
    anonymous = await put_cart(client, body["guest_token"], body["session_id"], [venue.lassi()])
    assert anonymous.status_code == 403
    assert problem(anonymous)["code"] == "MEMBER_REQUIRED"
    assert (
        await client.put(f"/session/{body['session_id']}/cart", json={"items": []})
    ).status_code == 401


async def test_a_browser_opening_the_qr_link_gets_the_guest_app(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    pytest.importorskip("servio.web.guest.shell", reason="the guest app shell (web/guest)")
    browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = await client.get(f"/t/{venue.token}", headers={"Accept": browser_accept})
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "Accept" in page.headers["vary"]
    # The page itself opens no session: the app's own JSON call does.
    api = await client.get(f"/t/{venue.token}", headers={"Accept": "*/*"})
    assert api.status_code == 201
    assert api.headers["content-type"] == "application/json"


def test_content_negotiation_of_the_qr_link() -> None:
    assert prefers_html("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    assert prefers_html("text/html")
    assert not prefers_html(None)
    assert not prefers_html("*/*")
    assert not prefers_html("application/json")
    assert not prefers_html("application/json, text/html;q=0.5")
    assert not prefers_html("text/html;q=0.5, application/json")
    assert not prefers_html("text/html, application/json")  # a tie goes to the API
    assert not prefers_html("text/*;q=0.2, */*")  # html only via a low wildcard
    assert prefers_html("text/html;q=0.9, */*;q=0.1")


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["text/html", "application/json", "text/*", "*/*", "image/png", ""]),
            st.one_of(st.none(), st.floats(0, 1), st.text(max_size=4)),
        ),
        max_size=6,
    )
)
def test_negotiation_never_crashes_and_json_alone_is_never_html(
    ranges: list[tuple[str, float | str | None]],
) -> None:
    accept = ", ".join(r if q is None else f"{r};q={q}" for r, q in ranges)
    prefers_html(accept)  # any header parses
    if all(r not in ("text/html", "text/*", "*/*") for r, _ in ranges):
        assert not prefers_html(accept)


async def test_json_requests_never_get_html_errors(
    backend: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    missing = await client.get("/t/not-a-token", headers=JSON)
    assert missing.status_code == 404
    assert problem(missing)["code"] == "NOT_FOUND"
