from __future__ import annotations

import pytest

from servio.daily_pass import words
from tests.fixtures.outlet import owned_outlet_fixture

world = owned_outlet_fixture("world", "Spice Route")


@pytest.fixture
def fixed_words(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Rotations pick these words, in order (so tests can search rows for them)."""
    queue = ["latte29", "mango71", "kulfi05", "pesto88"]
    monkeypatch.setattr(words, "new_word", lambda: queue.pop(0))
    return queue
