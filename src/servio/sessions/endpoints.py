from __future__ import annotations

from servio.kit.routing import make_router

router = make_router(tags=["sessions"])
