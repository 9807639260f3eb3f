"""The demo outlet's floor: 12 tables on a grid, 2 hotel rooms and a takeaway counter."""

from __future__ import annotations

from typing import Any

from servio.auth.actors import SystemActor
from servio.config import Settings
from servio.floor import service
from servio.floor.qr import issue_qr_token, qr_url
from servio.floor.service import PointSpec
from servio.kit.db import UnitOfWork

_GRID_COLUMNS = 4
_GRID_ORIGIN, _GRID_STEP_X, _GRID_STEP_Y = 80.0, 160.0, 140.0
_TABLE_SEATS = (2, 2, 4, 4, 4, 4, 4, 4, 6, 6, 8, 8)


def _demo_specs() -> dict[str, list[PointSpec]]:
    tables = []
    for index, seats in enumerate(_TABLE_SEATS):
        row, column = divmod(index, _GRID_COLUMNS)
        tables.append(
            PointSpec(
                label=f"T{index + 1}",
                seats=seats,
                area="Patio" if row == 2 else "Main hall",
                pos_x=_GRID_ORIGIN + column * _GRID_STEP_X,
                pos_y=_GRID_ORIGIN + row * _GRID_STEP_Y,
            )
        )
    return {
        "table": tables,
        "room": [PointSpec("101", 2, "First floor"), PointSpec("102", 3, "First floor")],
        "counter": [PointSpec("Takeaway", 1, "Front")],
    }


async def seed_demo_service_points(
    uow: UnitOfWork, settings: Settings, tenant_id: str, outlet_id: str
) -> list[dict[str, Any]]:
    """Create what is missing (safe to run again) and return every demo point as
    `{"kind", "label", "qr_token", "qr_url"}`: tables, then rooms, then the counter."""
    actor = SystemActor(name="demo", tenant_id=tenant_id)
    out: list[dict[str, Any]] = []
    for kind, specs in _demo_specs().items():
        existing = {
            p.label: p for p in await service.list_points(uow, tenant_id, outlet_id, kind=kind)
        }
        missing = [spec for spec in specs if spec.label not in existing]
        if missing:
            created = await service.create_points(
                uow, actor, tenant_id=tenant_id, outlet_id=outlet_id, kind=kind, specs=missing
            )
            existing.update({p.label: p for p in created})
        for spec in specs:
            point = existing[spec.label]
            out.append(
                {
                    "kind": kind,
                    "label": point.label,
                    "qr_token": issue_qr_token(settings, point),
                    "qr_url": qr_url(settings, point),
                }
            )
    return out
