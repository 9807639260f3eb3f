"""The guest app tests reuse the bistro of `tests/guest` (a menu with modifiers, a table and
its QR token)."""

from __future__ import annotations

from tests.guest.conftest import bistro  # noqa: F401  (fixture)
