"""PLACEHOLDER"""

from typing import Any

from servio.config import Settings


def create_limiter(settings: Settings, redis: Any) -> Any:
    return None
