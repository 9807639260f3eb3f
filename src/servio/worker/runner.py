"""PLACEHOLDER"""

from typing import Any


class Worker:
    def __init__(self, db: Any, settings: Any, *, pubsub: Any = None) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
