"""Path classes shared by the middleware, logging sampling and metrics labels."""

from __future__ import annotations

# Guest (QR) surfaces, see api.md "Base paths".
GUEST_PREFIXES = ("/t/", "/g/", "/h/", "/c/", "/session", "/member", "/orders", "/ws")

OPS_PREFIXES = ("/health", "/ready", "/metrics", "/status.json", "/time/")


def is_under(path: str, prefix: str) -> bool:
    """`/orders` covers `/orders` and `/orders/…` but not `/ordersx`; `/t/` covers below."""
    if prefix.endswith("/"):
        return path.startswith(prefix)
    return path == prefix or path.startswith(prefix + "/")


def is_guest_path(path: str) -> bool:
    return any(is_under(path, prefix) for prefix in GUEST_PREFIXES)


def surface_of(path: str) -> str:
    """Coarse, bounded label for a path: ops, provider, api, guest or web."""
    if path.startswith(OPS_PREFIXES):
        return "ops"
    if path.startswith("/api/v1/provider/"):
        return "provider"
    if path.startswith("/api/"):
        return "api"
    if is_guest_path(path):
        return "guest"
    return "web"
