"""Seed 004 §0 "Fast first bite" / §8: the PWA ships a critical skeleton under 30 KB and
lazy-loads the menu JSON. The app has no compression middleware, so the bytes on the wire are
the raw bodies: the shell page plus every stylesheet and script it references."""

from __future__ import annotations

import httpx
import pytest

from tests.guest.conftest import Bistro
from tests.web.guest.helpers import BUDGET_BYTES, first_paint_assets, open_shell


@pytest.mark.parametrize("lang", ["en", "hi", "gu"])
async def test_the_first_paint_is_under_30_kb(
    client: httpx.AsyncClient, bistro: Bistro, lang: str
) -> None:
    shell = await open_shell(client, bistro.token, lang)
    assert shell.status_code == 200
    assert "content-encoding" not in shell.headers  # measured raw: nothing compresses it
    sizes = {"shell": len(shell.content)}
    assets = first_paint_assets(shell.text)
    assert any(a.endswith(".css") or ".css?" in a for a in assets), assets
    assert any(".js?" in a for a in assets), assets
    for url in assets:
        reply = await client.get(url)
        assert reply.status_code == 200, url
        sizes[url] = len(reply.content)
    total = sum(sizes.values())
    print(f"guest first paint ({lang}): {total} bytes {sizes}")
    assert total < BUDGET_BYTES, sizes
    # The menu is not part of it: the page fetches it afterwards.
    assert "Paneer Tikka" not in shell.text
