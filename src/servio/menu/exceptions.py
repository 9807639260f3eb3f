"""Menu refusals with stable codes. Pricing refusals (`ITEM_UNAVAILABLE`,
`INVALID_MODIFIERS`) live in `menu.pricing` because the ordering context raises them too."""

from __future__ import annotations

from servio.kit.errors import ProblemError


class OutletRequired(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "OUTLET_REQUIRED",
            "the menu belongs to one outlet, and no outlet is selected",
            hint="send X-Outlet-ID",
        )


class UnknownReference(ProblemError):
    """A body refers to a category, item, group or image the caller's outlet does not have
    (the same answer whether it does not exist or belongs to someone else)."""

    def __init__(self, code: str, what: str, ref: str) -> None:
        super().__init__(
            422,
            code,
            f"{what} {ref} does not exist in this outlet",
            hint=f"list this outlet's {what}s and use one of their ids",
            extra={"ref": ref},
        )


def unknown_category(ref: str) -> UnknownReference:
    return UnknownReference("UNKNOWN_CATEGORY", "category", ref)


def unknown_image(ref: str) -> UnknownReference:
    return UnknownReference("UNKNOWN_IMAGE", "image", ref)


def unknown_component(ref: str) -> UnknownReference:
    return UnknownReference("UNKNOWN_COMPONENT", "menu item", ref)


def unknown_group(ref: str) -> UnknownReference:
    return UnknownReference("UNKNOWN_MODIFIER_GROUP", "modifier group", ref)


class InvalidSelectionBounds(ProblemError):
    def __init__(self, min_select: int, max_select: int) -> None:
        super().__init__(
            422,
            "VALIDATION_ERROR",
            f"min_select ({min_select}) may not exceed max_select ({max_select})",
            title="Unprocessable Content",
            extra={
                "errors": [
                    {
                        "loc": ["body", "min_select"],
                        "msg": "min_select may not exceed max_select",
                        "type": "value_error",
                    }
                ]
            },
        )


class NotACombo(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422, "NOT_A_COMBO", "only combos have components", hint="create a combo instead"
        )


class NestedCombo(ProblemError):
    def __init__(self, ref: str) -> None:
        super().__init__(
            422,
            "NESTED_COMBO",
            "a combo cannot contain another combo",
            extra={"ref": ref},
        )


class CategoryNotEmpty(ProblemError):
    def __init__(self, count: int) -> None:
        super().__init__(
            409,
            "CATEGORY_NOT_EMPTY",
            f"the category still holds {count} item(s)",
            hint="move or delete its items first",
            extra={"items": count},
        )


class ItemInCombo(ProblemError):
    def __init__(self, combo_names: list[str]) -> None:
        super().__init__(
            409,
            "ITEM_IN_COMBO",
            "the item is part of combos: " + ", ".join(combo_names),
            hint="remove it from those combos first",
        )
