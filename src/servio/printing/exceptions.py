from __future__ import annotations

from servio.kit.errors import ProblemError


class OutletRequired(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "OUTLET_REQUIRED",
            "printers belong to one outlet, and no outlet is selected",
            hint="send X-Outlet-ID",
        )


class InvalidPrinterHost(ProblemError):
    def __init__(self, reason: str) -> None:
        super().__init__(
            422,
            "INVALID_PRINTER_HOST",
            f"host: {reason}",
            hint="use the printer's LAN address (e.g. 192.168.1.50) or host name",
            extra={"errors": [{"loc": ["body", "host"], "msg": reason}]},
        )


class InvalidFallback(ProblemError):
    def __init__(self, detail: str) -> None:
        super().__init__(
            422,
            "INVALID_FALLBACK",
            detail,
            hint="pick another active printer of the same outlet",
            extra={"errors": [{"loc": ["body", "fallback_printer_id"], "msg": detail}]},
        )


class FallbackCycle(ProblemError):
    def __init__(self, path: list[str]) -> None:
        super().__init__(
            409,
            "FALLBACK_CYCLE",
            "this fallback would make printers fall back to each other in a loop",
            hint="point the fallback at a printer that does not (indirectly) fall back here",
            extra={"cycle": path},
        )


class PrinterNameTaken(ProblemError):
    def __init__(self, name: str) -> None:
        super().__init__(
            409,
            "PRINTER_NAME_TAKEN",
            f"this outlet already has a printer named {name!r}",
            hint="printer names are unique per outlet",
        )


class PrinterVersionMismatch(ProblemError):
    def __init__(self, current: int) -> None:
        super().__init__(
            412,
            "VERSION_MISMATCH",
            "the printer was changed by someone else",
            hint=f"reload it and retry with If-Match: {current}",
            headers={"ETag": f'"{current}"'},
            extra={"current_version": current},
        )
