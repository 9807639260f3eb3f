from __future__ import annotations

from tests.fixtures.outlet import owned_outlet_fixture

world = owned_outlet_fixture("world", "Feedback Cafe")
