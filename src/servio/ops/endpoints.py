"""PLACEHOLDER — replaced by the context's real routes."""

from servio.kit.routing import make_router

router = make_router()
