"""The guest menu read (MENU-07): QR token → rendered, cached menu bytes or "not modified".

Cost of a request:
- always: the HMAC check of the token (no I/O) and ONE query (service point by primary
  key joined with its outlet: QR version, state, menu version);
- `If-None-Match` matching the current ETag: nothing more (304);
- cache hit: a dict lookup (the service point is spliced in front when sent);
- cache miss: `menu.service.load_menu` (seven queries, built once at import), one media
  query, one render.

Unfiltered answers are remembered per (token, language) under the `guest.changes`
generation read before the query, so `guest.fastpath` can repeat them without any of this.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

from servio.config import Settings
from servio.floor.qr import InvalidQrToken, verify_qr_token
from servio.guest.cache import MenuAnswer, MenuCacheKey, RenderedMenuCache
from servio.guest.changes import changes
from servio.guest.fastpath import etag_matches
from servio.guest.filters import MenuFilter
from servio.guest.menu_view import OutletView, render_menu
from servio.guest.repository import MenuTarget, find_images, find_menu_target
from servio.i18n import Lang
from servio.kit.db import UnitOfWork
from servio.kit.errors import NotFound
from servio.kit.storage import Storage
from servio.media.service import media_url
from servio.menu.service import load_menu
from servio.sessions.exceptions import TableDisabled


@dataclass(frozen=True)
class MenuReply:
    etag: str
    answer: MenuAnswer | None  # None: the client's copy is current (304)


def menu_etag(
    menu_version: int, outlet_version: int, lang: Lang, menu_filter: MenuFilter, target: MenuTarget
) -> str:
    """Strong ETag `"m{menu_version}-{lang}-{variant}"`. The variant hashes the filter with
    what else the reply shows (outlet profile version, the point's kind and label), so
    renaming a table or the outlet also revalidates."""
    shown = f"{menu_filter.canonical()}|o{outlet_version}|{target.kind}|{target.label}"
    variant = hashlib.sha256(shown.encode()).hexdigest()[:12]
    return f'"m{menu_version}-{lang}-{variant}"'


def service_point_head(kind: str, label_text: str) -> bytes:
    """`{"service_point":{...},`: what goes in front of the shared rendering's tail
    (`menu_view.with_service_point`, without copying the body)."""
    return orjson.dumps({"service_point": {"kind": kind, "label": label_text}})[:-1] + b","


async def resolve_target(uow: UnitOfWork, settings: Settings, qr_token: str) -> MenuTarget:
    """The live point (and outlet) a genuine, current token names; 404 otherwise, the same
    for garbage, forged, rotated and deleted, so a guesser learns nothing. Leaves the unit
    of work scoped to the point's tenant."""
    try:
        point_id, qr_version = verify_qr_token(settings, qr_token)
    except InvalidQrToken:
        raise NotFound("service point") from None
    # The guest has no tenant until the point is found (the token's MAC vouches for the id).
    await uow.set_tenant(None, bypass=True)
    target = await find_menu_target(uow.session, point_id)
    if (
        target is None
        or not target.is_active
        or target.qr_version != qr_version
        or target.outlet_status == "archived"
    ):
        await uow.set_tenant(None)
        raise NotFound("service point")
    await uow.set_tenant(target.tenant_id)
    return target


async def guest_menu(
    uow: UnitOfWork,
    settings: Settings,
    storage: Storage,
    cache: RenderedMenuCache,
    *,
    qr_token: str,
    lang: Lang,
    menu_filter: MenuFilter,
    if_none_match: str | None,
) -> MenuReply:
    stamp = changes.stamp()  # before the read: a write from now on makes it stale
    target = await resolve_target(uow, settings, qr_token)
    if target.state == "disabled":
        raise TableDisabled()
    etag = menu_etag(target.menu_version, target.outlet_version, lang, menu_filter, target)
    unfiltered = not menu_filter.canonical()
    if etag_matches(if_none_match, etag):
        if stamp is not None and unfiltered:
            cache.reconfirm(qr_token, lang, etag, stamp)
        return MenuReply(etag, None)
    key = MenuCacheKey(
        target.outlet_id, target.menu_version, target.outlet_version, lang, menu_filter.canonical()
    )
    rendered = cache.get(key)
    if rendered is None:
        menu = await load_menu(uow, target.tenant_id, target.outlet_id)
        images = await find_images(
            uow.session, target.tenant_id, (e.image_id for e in menu.items if e.image_id)
        )

        def image_url(media_id: str) -> str | None:
            asset = images.get(media_id)
            return media_url(settings, storage, asset) if asset is not None else None

        outlet = OutletView(target.outlet_name, target.currency, target.locale, target.timezone)
        body = render_menu(menu, outlet, lang, menu_filter, image_url)
        # A write may have landed between our two reads: key and tag by what we rendered.
        key = MenuCacheKey(
            key.outlet_id, menu.menu_version, key.outlet_version, lang, key.filter_text
        )
        etag = menu_etag(menu.menu_version, target.outlet_version, lang, menu_filter, target)
        rendered = cache.put(key, body)
    head = service_point_head(target.kind, target.label)
    answer = cache.answer_for(qr_token, lang, etag, rendered, head)
    if stamp is not None and unfiltered:
        cache.remember(qr_token, lang, answer, stamp)
    return MenuReply(etag, answer)
