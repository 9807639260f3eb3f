"""PLACEHOLDER"""

from servio.config import Settings


def configure_logging(settings: Settings) -> None:
    return None
