from __future__ import annotations

from servio.kit.errors import ProblemError


class UnknownSetting(ProblemError):
    def __init__(self, key: str) -> None:
        super().__init__(
            422,
            "UNKNOWN_SETTING",
            f"there is no setting called {key!r}",
            hint="GET /api/v1/settings lists every known key",
        )


class UnknownFlag(ProblemError):
    def __init__(self, name: str) -> None:
        super().__init__(
            422,
            "UNKNOWN_FLAG",
            f"there is no feature flag called {name!r}",
            hint="GET /api/v1/flags lists every known flag",
        )


class InvalidSettingValue(ProblemError):
    def __init__(self, key: str, reason: str) -> None:
        super().__init__(
            422,
            "VALIDATION_ERROR",
            f"{key}: {reason}",
            title="Unprocessable Content",
            extra={"errors": [{"loc": ["body", "value"], "msg": reason, "type": "value_error"}]},
        )


class VersionMismatch(ProblemError):
    def __init__(self, current: int) -> None:
        super().__init__(
            412,
            "VERSION_MISMATCH",
            "the resource was changed by someone else",
            hint=f"reload it and retry with If-Match: {current}",
            headers={"ETag": f'"{current}"'},
            extra={"current_version": current},
        )


class OutletRequired(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "OUTLET_REQUIRED",
            "this change applies to one outlet, and no outlet is selected",
            hint="send X-Outlet-ID, or use scope=tenant",
        )


class Taken(ProblemError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(409, code, detail)
