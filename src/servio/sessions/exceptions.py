from __future__ import annotations

from servio.kit.errors import ProblemError


class SessionExpired(ProblemError):
    """A guest credential of a closed or purged session (yesterday's screenshot)."""

    def __init__(self) -> None:
        super().__init__(
            410,
            "SESSION_EXPIRED",
            "this table session has ended",
            hint="scan the table's QR code again to start a new one",
        )


class SessionNotFound(ProblemError):
    def __init__(self) -> None:
        super().__init__(404, "NOT_FOUND", "table session not found")


class SessionClosed(ProblemError):
    def __init__(self) -> None:
        super().__init__(409, "SESSION_CLOSED", "this table session is already closed")


class SessionNotClosed(ProblemError):
    def __init__(self) -> None:
        super().__init__(409, "SESSION_NOT_CLOSED", "only a closed table session can be restored")


class SessionPurged(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            410,
            "SESSION_PURGED",
            "this table session was purged and cannot be restored",
            hint="closed sessions are purged 24 hours after they were auto-closed",
        )


class TableBusy(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            409,
            "TABLE_BUSY",
            "another session is already live at this table",
            hint="close the live session first, then restore this one",
        )


class SessionNotStale(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            409,
            "SESSION_NOT_STALE",
            "this table session is still in use",
            hint="only a session idle for longer than the outlet's limit can be replaced",
        )


class OutletClosed(ProblemError):
    def __init__(self, next_opening: str | None) -> None:
        super().__init__(
            503,
            "OUTLET_CLOSED",
            "the outlet is closed right now",
            hint=f"ordering opens again at {next_opening}" if next_opening else None,
            extra={"reason": "closed", "next_opening": next_opening},
        )


class TableDisabled(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            423,
            "TABLE_DISABLED",
            "this table is not taking orders right now",
            hint="ask a member of staff",
        )
