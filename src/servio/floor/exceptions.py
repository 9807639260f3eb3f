from __future__ import annotations

from collections.abc import Sequence

from servio.kit.errors import ProblemError


class LabelTaken(ProblemError):
    def __init__(self, kind: str, labels: Sequence[str]) -> None:
        shown = ", ".join(labels[:10]) + (" …" if len(labels) > 10 else "")
        super().__init__(
            409,
            "LABEL_TAKEN",
            f"this outlet already has a {kind} labelled {shown}",
            hint="pick another label (labels are unique per outlet), or use a different start",
            extra={"labels": list(labels)},
        )


class OutletRequired(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "OUTLET_REQUIRED",
            "tables, rooms and counters belong to one outlet, and no outlet is selected",
            hint="send X-Outlet-ID",
        )


class PointVersionMismatch(ProblemError):
    def __init__(self, current: int) -> None:
        super().__init__(
            412,
            "VERSION_MISMATCH",
            "the service point was changed by someone else",
            hint=f"reload it and retry with If-Match: {current}",
            headers={"ETag": f'"{current}"'},
            extra={"current_version": current},
        )
