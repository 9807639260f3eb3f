"""Guest routes reached through a QR code. The QR token in the path is the credential, so
these routes are `public` and rate limited per client IP (class `guest`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from starlette.responses import Response

from servio.auth.dependencies import app_settings, public
from servio.guest import service
from servio.guest.cache import RenderedMenuCache, not_modified_headers
from servio.guest.fastpath import memo
from servio.guest.filters import InvalidFilter, MenuFilter, parse_filter
from servio.guest.schemas import GuestMenuRead
from servio.i18n import Lang, negotiate
from servio.kit.db import UnitOfWork
from servio.kit.errors import ProblemError, problem_responses
from servio.kit.ratelimit import RATE_LIMIT_PROBLEM, rate_limit
from servio.kit.routing import get_uow, make_router
from servio.media.dependencies import get_storage

router = make_router(tags=["guest"])


class MenuBytesResponse(Response):
    """Bytes and header lists made once by `guest.cache.MenuAnswer`, so this route and
    `guest.fastpath` send exactly the same reply (always revalidate: `no-cache`; shared
    caches key by language and encoding: `Vary`)."""

    def __init__(self, status_code: int, body: bytes, headers: list[tuple[bytes, bytes]]):
        self.status_code = status_code
        self.body = body
        self.raw_headers = headers
        self.background = None


# The dependencies below are `async def` on purpose: FastAPI runs plain `def` dependencies
# in a worker thread, and on this route a thread hop costs more than the cache hit.


async def menu_cache(request: Request) -> RenderedMenuCache:
    """The process's rendered-menu cache, created with the app's settings on first use."""
    cache: RenderedMenuCache | None = getattr(request.app.state, "guest_menu_cache", None)
    if cache is None:
        cache = RenderedMenuCache(app_settings(request).guest_menu_cache_entries)
        request.app.state.guest_menu_cache = cache
    return cache


async def menu_filter(
    filter: Annotated[
        str | None,
        Query(
            max_length=512,
            description="Comma-separated `[-]dietary:TAG` / `[-]allergen:NAME` terms, e.g. "
            "`dietary:vegan,-allergen:nuts`; all terms must hold.",
            examples=["dietary:vegan,-allergen:nuts"],
        ),
    ] = None,
) -> MenuFilter:
    try:
        return parse_filter(filter)
    except InvalidFilter as exc:
        raise ProblemError(422, "INVALID_FILTER", exc.detail, hint=exc.hint) from None


async def language(accept_language: Annotated[str | None, Header()] = None) -> Lang:
    return negotiate(accept_language)


@router.get(
    "/g/{qr_token}/menu",
    summary="The menu for the table, room or counter behind a QR code",
    description=(
        "Localized by `Accept-Language` (en, hi, gu). Strong `ETag` from the menu version: "
        "send it back in `If-None-Match` to get `304` while the menu is unchanged. Out-of-"
        "stock items are listed with `is_available: false`."
    ),
    response_model=GuestMenuRead,
    responses={
        304: {"description": "Not Modified: the `If-None-Match` ETag is current"},
        **problem_responses(
            (404, "NOT_FOUND"),
            (422, "INVALID_FILTER"),
            (422, "VALIDATION_ERROR"),
            (423, "TABLE_DISABLED"),
            RATE_LIMIT_PROBLEM,
        ),
    },
    dependencies=[Depends(public), Depends(rate_limit("guest"))],
)
async def get_guest_menu(
    request: Request,
    qr_token: Annotated[str, Path(max_length=128, description="The token printed in the QR")],
    menu_filter: Annotated[MenuFilter, Depends(menu_filter)],
    lang: Annotated[Lang, Depends(language)],
    uow: Annotated[UnitOfWork, Depends(get_uow)],
    cache: Annotated[RenderedMenuCache, Depends(menu_cache)],
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    reply = await service.guest_menu(
        uow,
        app_settings(request),
        get_storage(request),
        cache,
        qr_token=qr_token,
        lang=lang,
        menu_filter=menu_filter,
        if_none_match=if_none_match,
    )
    if reply.answer is None:
        return MenuBytesResponse(304, b"", list(not_modified_headers(reply.etag, lang)))
    body, headers = reply.answer.encode(memo.gzip(request.headers.get("accept-encoding")))
    return MenuBytesResponse(200, body, headers)
