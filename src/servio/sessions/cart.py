"""The table's cart as guests see it: stored choices priced by the server's menu on every
read, so a price change or an item running out shows up at once. Lines that can no longer
be ordered are shown with `is_available: false`; ordering them is refused."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from servio.kit.db import UnitOfWork
from servio.menu.pricing import ItemSnapshot, PricingError, price_item
from servio.menu.repository import outlet_menu_header
from servio.menu.service import price_snapshot_at
from servio.models.cart_line import CartLine
from servio.models.session_member import SessionMember
from servio.models.table_session import TableSession
from servio.sessions.repository import CartRepository, MemberRepository
from servio.sessions.schemas import (
    CartLineRead,
    CartModifierRead,
    MemberCartRead,
    TableCartRead,
)


def price_cart_line(line: CartLine, snapshots: Mapping[str, ItemSnapshot]) -> CartLineRead:
    """One stored line, priced now. Never raises: an unorderable line is flagged."""
    item = snapshots.get(line.menu_item_id)
    if item is None:
        return CartLineRead(
            line_id=line.id,
            menu_item_id=line.menu_item_id,
            name="(no longer on the menu)",
            qty=line.qty,
            note=line.note,
            unit_price=0,
            line_total=0,
            is_available=False,
        )
    names = {m.id: m for group in item.groups for m in group.modifiers}
    try:
        priced = price_item(item, line.modifiers)
    except PricingError:
        unit, available = item.price, False
        modifiers = [
            CartModifierRead(id=m, name=names[m].name, price_delta=names[m].price_delta)
            for m in line.modifiers
            if m in names
        ]
    else:
        unit, available = priced.unit_price, True
        modifiers = [
            CartModifierRead(id=m.modifier_id, name=m.name, price_delta=m.price_delta)
            for m in priced.modifiers
            for _ in range(m.qty)
        ]
    return CartLineRead(
        line_id=line.id,
        menu_item_id=line.menu_item_id,
        name=item.name,
        qty=line.qty,
        note=line.note,
        modifiers=modifiers,
        unit_price=unit,
        line_total=unit * line.qty,
        is_available=available,
    )


def build_table_cart(
    session_id: str,
    currency: str,
    members: Sequence[SessionMember],
    lines: Sequence[CartLine],
    snapshots: Mapping[str, ItemSnapshot],
) -> TableCartRead:
    """Pure: group priced lines by member (joining order); members without lines are left
    out so the cart shows only who ordered what."""
    by_member: dict[str, list[CartLineRead]] = {}
    for line in sorted(lines, key=lambda row: (row.position, row.id)):
        by_member.setdefault(line.member_id, []).append(price_cart_line(line, snapshots))
    groups = [
        MemberCartRead(
            member_id=member.id,
            nickname=member.nickname,
            is_host=member.is_host,
            lines=by_member[member.id],
            item_count=sum(line.qty for line in by_member[member.id]),
            subtotal=sum(line.line_total for line in by_member[member.id]),
        )
        for member in members
        if member.id in by_member
    ]
    return TableCartRead(
        session_id=session_id,
        currency=currency,
        members=groups,
        item_count=sum(group.item_count for group in groups),
        subtotal=sum(group.subtotal for group in groups),
    )


async def table_cart(
    uow: UnitOfWork,
    session: TableSession,
    *,
    members: Sequence[SessionMember] | None = None,
    header: tuple[int, str] | None = None,
) -> TableCartRead:
    """The session's whole cart, priced now (three queries when the outlet's menu is warm
    in `menu.price_cache`). Pass `members` and the outlet's `header` (menu version,
    currency) when the caller has already read them in this transaction."""
    tenant_id = session.tenant_id
    if members is None:
        members = await MemberRepository(uow.session, tenant_id).for_session(session.id)
    lines = await CartRepository(uow.session, tenant_id).for_session(session.id)
    if header is None:
        header = await outlet_menu_header(uow.session, session.outlet_id, tenant_id)
    currency = header[1] if header is not None else "INR"
    snapshots = (
        await price_snapshot_at(
            uow, tenant_id, session.outlet_id, header[0], {line.menu_item_id for line in lines}
        )
        if lines and header is not None
        else {}
    )
    return build_table_cart(session.id, currency, members, lines, snapshots)
