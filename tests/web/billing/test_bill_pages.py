"""The staff bill and cash drawer pages (`/staff/bills`, `/staff/bills/{id}`, `/cash`) over
HTTP: who may open them, what the shell tells the page script (what the caller may do), the
links between the staff screens, and that they obey the CSP."""

from __future__ import annotations

import httpx
import pytest

from servio.kit.db import Database
from tests.web.conftest import Venue
from tests.web.helpers import HTML, Tags, app_shell, assert_obeys_csp, sign_in, sign_in_as

INVOICE_ID = "01JD3Y8W7Q5N2V4M6K8H0G2F4A"
PAGES = ("/staff/bills", f"/staff/bills/{INVOICE_ID}", "/cash")


@pytest.mark.parametrize("path", PAGES)
async def test_a_signed_out_browser_is_sent_to_sign_in(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path, headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


@pytest.mark.backends
@pytest.mark.parametrize("path", PAGES)
async def test_kitchen_staff_get_the_403_page(
    backend: str, client: httpx.AsyncClient, db: Database, venue: Venue, path: str
) -> None:
    await sign_in_as(client, db, venue, "kitchen")  # no billing.read, no cash.read
    response = await client.get(path, headers=HTML)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "You do not have access to this page" in response.text
    assert 'id="bills-app"' not in response.text
    assert 'id="cash-app"' not in response.text


async def test_a_waiter_sees_bills_but_cannot_take_money_or_open_the_drawer(
    client: httpx.AsyncClient, db: Database, venue: Venue
) -> None:
    await sign_in_as(client, db, venue, "waiter")
    bill = await client.get(f"/staff/bills/{INVOICE_ID}", headers=HTML)
    assert bill.status_code == 200, bill.text
    attrs = app_shell(bill.text, "bills-app")
    assert attrs["data-can-take"] == "false"
    assert attrs["data-can-refund"] == "false"
    assert attrs["data-can-bill"] == "true"
    tags = Tags(bill.text)
    assert not tags.find("form", id="take-form")
    assert not tags.find("form", id="refund-form")
    assert (await client.get("/cash", headers=HTML)).status_code == 403


async def test_a_cashier_takes_payments_but_refunds_need_a_manager(
    client: httpx.AsyncClient, db: Database, venue: Venue
) -> None:
    await sign_in_as(client, db, venue, "cashier")
    bill = await client.get(f"/staff/bills/{INVOICE_ID}", headers=HTML)
    assert bill.status_code == 200
    attrs = app_shell(bill.text, "bills-app")
    assert attrs["data-invoice-id"] == INVOICE_ID
    assert attrs["data-currency"] == venue.outlet.currency
    assert attrs["data-can-take"] == "true"
    assert attrs["data-can-refund"] == "false"
    tags = Tags(bill.text)
    assert tags.find("form", id="take-form")
    assert not tags.find("form", id="refund-form")
    # Both receipt sizes are one click away.
    assert tags.find("a", href=f"/api/v1/invoices/{INVOICE_ID}/pdf?size=80mm")
    assert tags.find("a", href=f"/api/v1/invoices/{INVOICE_ID}/pdf?size=A4")

    drawer = await client.get("/cash", headers=HTML)
    assert drawer.status_code == 200
    cash = app_shell(drawer.text, "cash-app")
    assert (cash["data-can-open"], cash["data-can-move"], cash["data-can-close"]) == (
        "true",
        "true",
        "true",
    )


async def test_the_owner_gets_the_refund_dialog(client: httpx.AsyncClient, venue: Venue) -> None:
    await sign_in(client, venue.email)
    bill = await client.get(f"/staff/bills/{INVOICE_ID}", headers=HTML)
    assert app_shell(bill.text, "bills-app")["data-can-refund"] == "true"
    tags = Tags(bill.text)
    assert tags.find("form", id="refund-form")
    pin = tags.find("input", id="refund-pin")[0]
    assert pin["type"] == "password"
    assert pin["autocomplete"] == "off"


async def test_a_malformed_bill_id_is_the_404_page(client: httpx.AsyncClient, venue: Venue) -> None:
    await sign_in(client, venue.email)
    response = await client.get("/staff/bills/not-a-bill!", headers=HTML)
    assert response.status_code == 404
    assert 'id="bills-app"' not in response.text


@pytest.mark.parametrize(
    ("path", "current"),
    [("/staff/bills", "/staff/bills"), ("/cash", "/cash"), ("/staff", "/staff"), ("/pos", "/pos")],
)
async def test_the_staff_screens_link_to_each_other(
    client: httpx.AsyncClient, venue: Venue, path: str, current: str
) -> None:
    await sign_in(client, venue.email)
    page = await client.get(path, headers=HTML)
    assert page.status_code == 200
    tabs = page.text.split('class="staff-tabs"', 1)[1].split("</nav>", 1)[0]
    for href in ("/staff", "/pos", "/staff/bills", "/cash"):
        assert f'href="{href}"' in tabs
    assert f'href="{current}" aria-current="page"' in tabs


async def test_the_grid_offers_bill_to_those_who_may_bill(
    client: httpx.AsyncClient, db: Database, venue: Venue
) -> None:
    await sign_in_as(client, db, venue, "housekeeping")  # sees the grid, may not bill
    page = await client.get("/staff", headers=HTML)
    assert app_shell(page.text, "staff-app")["data-can-bill"] == "false"


async def test_the_grid_offers_bill_to_a_waiter(
    client: httpx.AsyncClient, db: Database, venue: Venue
) -> None:
    await sign_in_as(client, db, venue, "waiter")
    page = await client.get("/staff", headers=HTML)
    assert app_shell(page.text, "staff-app")["data-can-bill"] == "true"


@pytest.mark.parametrize(
    ("path", "script", "style"),
    [
        ("/staff/bills", "/js/bills", "/css/billing"),
        (f"/staff/bills/{INVOICE_ID}", "/js/bills", "/css/billing"),
        ("/cash", "/js/cash", "/css/billing"),
    ],
)
async def test_the_pages_and_their_assets_obey_the_csp(
    client: httpx.AsyncClient, venue: Venue, path: str, script: str, style: str
) -> None:
    await sign_in(client, venue.email)
    page = await client.get(path, headers=HTML)
    await assert_obeys_csp(client, page.text, script, style)
