"""Licence usage for the console's bars (SAAS-02), read inside the page's transaction."""

from __future__ import annotations

from servio.kit.db import UnitOfWork
from servio.platform.limits import LimitName, usage
from servio.web.console.views import UsageBar, usage_bars


async def console_usage_bars(
    uow: UnitOfWork, tenant_id: str, only: tuple[LimitName, ...] = ()
) -> list[UsageBar]:
    """The tenant's usage bars (`only` some limits, or all of them)."""
    return usage_bars(await usage(uow, tenant_id), only)
