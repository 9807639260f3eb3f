from __future__ import annotations

from servio.kit.errors import ProblemError


class TicketNotFound(ProblemError):
    def __init__(self) -> None:
        super().__init__(404, "NOT_FOUND", "kitchen ticket not found")


class ItemNotFound(ProblemError):
    def __init__(self) -> None:
        super().__init__(404, "NOT_FOUND", "kitchen item not found")


class KitchenOutletRequired(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "OUTLET_REQUIRED",
            "the kitchen screens belong to one outlet, and no outlet is selected",
            hint="send X-Outlet-ID",
        )


class TicketNotReady(ProblemError):
    """Expo can only pick a ticket whose every item is ready (and nobody picked it yet)."""

    def __init__(self, current: str) -> None:
        super().__init__(
            409,
            "ILLEGAL_TRANSITION",
            f"a kitchen ticket cannot be picked while it is {current}",
            hint="pick it once every item is ready",
            extra={"current_state": current, "allowed": ["served"] if current == "ready" else []},
        )


class NothingToBump(ProblemError):
    def __init__(self, current: str) -> None:
        super().__init__(
            409,
            "ILLEGAL_TRANSITION",
            f"a kitchen ticket that is {current} has nothing left to bump",
            hint="bump moves queued items to in_progress and cooking items to ready",
            extra={"current_state": current, "allowed": []},
        )


class NothingReady(ProblemError):
    def __init__(self) -> None:
        super().__init__(409, "NOTHING_READY", "no ticket is ready to pick")
