"""The cash context's refusals (stable codes; see docs/cash.md)."""

from __future__ import annotations

from servio.kit.errors import ProblemError
from servio.kit.money import format_money


class DrawerNotFound(ProblemError):
    def __init__(self) -> None:
        super().__init__(404, "NOT_FOUND", "cash drawer not found")


class CashSessionNotFound(ProblemError):
    def __init__(self) -> None:
        super().__init__(404, "NOT_FOUND", "cash session not found")


class NoOpenCashSession(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            404,
            "NOT_FOUND",
            "no cash session is open",
            hint="open a drawer with its float first",
        )


class DrawerNameTaken(ProblemError):
    def __init__(self, name: str) -> None:
        super().__init__(
            409,
            "DRAWER_NAME_TAKEN",
            f"this outlet already has a drawer called {name!r}",
            hint="pick another name",
        )


class DrawerInactive(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            409,
            "DRAWER_INACTIVE",
            "this drawer is switched off",
            hint="use another drawer",
        )


class CashSessionOpen(ProblemError):
    def __init__(self, session_id: str | None) -> None:
        super().__init__(
            409,
            "CASH_SESSION_OPEN",
            "this drawer already has an open session",
            hint="close the open session (count the drawer) before opening a new one",
            extra={"open_session_id": session_id} if session_id else None,
        )


class CashSessionClosed(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            409,
            "CASH_SESSION_CLOSED",
            "this cash session is closed",
            hint="open a new session on the drawer",
        )


class CashDrawerClosed(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            409,
            "CASH_DRAWER_CLOSED",
            "no cash drawer is open at this outlet",
            hint="open a drawer with its float first",
        )


class CashDrawerRequired(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            409,
            "CASH_DRAWER_REQUIRED",
            "several cash drawers are open here and none of them is yours",
            hint="name the drawer (drawer_id) the cash goes into",
        )


class CashShort(ProblemError):
    def __init__(self, available: int, currency: str) -> None:
        super().__init__(
            409,
            "CASH_SHORT",
            "the drawer does not hold that much cash",
            hint=f"the drawer should hold {format_money(available, currency)}; "
            "take out at most that much, or pay from another drawer",
            extra={"available": available},
        )


class MovementInvalid(ProblemError):
    def __init__(self, detail: str, hint: str) -> None:
        super().__init__(422, "MOVEMENT_INVALID", detail, hint=hint)


class OutletRequired(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "OUTLET_REQUIRED",
            "cash drawers belong to one outlet, and no outlet is selected",
            hint="send X-Outlet-ID",
        )
