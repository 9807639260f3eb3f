"""View models the page templates render (plain data, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldErrors:
    """Per-field messages of the sign-in form; "" means the field is fine."""

    email: str = ""
    password: str = ""
    otp: str = ""


@dataclass(frozen=True)
class LoginError:
    title: str
    detail: str
    code: str
    field_errors: FieldErrors = field(default_factory=FieldErrors)


@dataclass(frozen=True)
class PageUser:
    """Who is signed in, as the page header and console show them, plus the CSRF token
    their forms post back."""

    id: str
    name: str
    email: str | None
    roles: tuple[str, ...]
    tenant_name: str
    outlet_name: str | None
    csrf_token: str
