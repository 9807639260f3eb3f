"""Refusals of guest receipts. `CodeInvalid` is returned, not raised, by the route so the
spent attempt commits (a raised error rolls the request back)."""

from __future__ import annotations

from servio.kit.errors import ProblemError


class CodeRequired(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            401,
            "CODE_REQUIRED",
            "receipts are listed only with the one-time code sent to that phone or e-mail",
            hint="request a code with POST /guest/receipts/code, then send it as `code`",
        )


class CodeInvalid(ProblemError):
    def __init__(self, *, attempts_left: int | None = None, locked: bool = False) -> None:
        if locked:
            hint = "too many wrong tries: request a new code"
        elif attempts_left is None:
            hint = "the code is wrong or has expired: request a new code"
        else:
            hint = f"check the code; {attempts_left} tries left before it is locked"
        super().__init__(
            403,
            "CODE_INVALID",
            "that code is wrong, expired or used up",
            hint=hint,
            extra={"attempts_left": attempts_left} if attempts_left is not None else None,
        )
