from __future__ import annotations

from servio.kit.errors import ProblemError


class CartEmpty(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            409,
            "CART_EMPTY",
            "there is nothing in the table's cart to send",
            hint="add items to the cart first",
        )


class PassRequired(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            403,
            "PASS_REQUIRED",
            "enter today's pass word before sending the order",
            hint="POST /session/{id}/validate_pass",
        )


class OrderIdTaken(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            409,
            "ORDER_ID_TAKEN",
            "this order id is already used by another order",
            hint="generate a new ULID for a new order",
        )


class OrderNotFound(ProblemError):
    def __init__(self) -> None:
        super().__init__(404, "NOT_FOUND", "order not found")


class NothingToFire(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            409,
            "FIRING_RESOLVED",
            "every firing of this order is already acknowledged, cancelled or fired manually",
        )


class OutletRequired(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "OUTLET_REQUIRED",
            "orders belong to one outlet, and no outlet is selected",
            hint="send X-Outlet-ID",
        )


class MissingPermission(ProblemError):
    def __init__(self, permission: str) -> None:
        super().__init__(
            403,
            "FORBIDDEN",
            f"this change needs the {permission} permission",
            extra={"permission": permission},
        )
