"""The `live` block of the floor map: what is happening at each point right now.

This is the one extension point the guest-journey context fills in: replace the body of
`live_states` with a query over open table sessions (one query for all points, keyed by
service point id). Until table sessions exist, no point has a live session.
"""

from __future__ import annotations

from collections.abc import Sequence

from servio.floor.schemas import LiveState
from servio.kit.db import UnitOfWork


async def live_states(
    uow: UnitOfWork, tenant_id: str, outlet_id: str, point_ids: Sequence[str]
) -> dict[str, LiveState]:
    """`{service_point_id: LiveState}`; points missing from the result have no session."""
    del uow, tenant_id, outlet_id, point_ids  # no table sessions yet (guest-journey issue)
    return {}
