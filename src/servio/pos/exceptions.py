from __future__ import annotations

from servio.kit.errors import ProblemError


class OpenTicketNotFound(ProblemError):
    def __init__(self) -> None:
        super().__init__(404, "NOT_FOUND", "open ticket not found")


class OpenTicketClosed(ProblemError):
    def __init__(self, state: str) -> None:
        super().__init__(
            409,
            "OPEN_TICKET_CLOSED",
            f"this ticket is {state.replace('_', ' ')} and cannot be changed",
            hint="reload the open tickets",
            extra={"state": state},
        )


class OpenTicketVersionMismatch(ProblemError):
    def __init__(self, current: int) -> None:
        super().__init__(
            412,
            "VERSION_MISMATCH",
            "the open ticket was changed by someone else",
            hint=f"reload it and retry with If-Match: {current}",
            headers={"ETag": f'"{current}"'},
            extra={"current_version": current},
        )


class OpenTicketEmpty(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            409,
            "CART_EMPTY",
            "this ticket has no lines to order",
            hint="add items to the ticket first",
        )


class ServicePointNotFound(ProblemError):
    def __init__(self) -> None:
        super().__init__(404, "NOT_FOUND", "table not found")


class ServicePointDisabled(ProblemError):
    def __init__(self, label: str) -> None:
        super().__init__(
            423,
            "TABLE_DISABLED",
            f"{label} is disabled",
            hint="pick another table or take it as a counter order",
        )
